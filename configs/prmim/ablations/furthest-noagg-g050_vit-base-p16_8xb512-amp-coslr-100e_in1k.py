# Ablation, ViT-B/16, 100 epochs: furthest sampling only (no aggregator), throw
# ratio 0.5.
# The paper's ViT-B 100-epoch ablation: PR-MIM 81.7-81.8 at throw ratio
# 0.25 / 0.5 / 0.65; plain partial reconstruction 81.4 / 81.1 / 80.3.
_base_ = ['../prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py']

model = dict(head=dict(aggregator=None))
