# Ablation, ViT-B/16, 100 epochs: MAE itself: nothing thrown (PR-MIM reduces to
# MAE exactly).
# The paper's ViT-B 100-epoch ablation: PR-MIM 81.7-81.8 at throw ratio
# 0.25 / 0.5 / 0.65; plain partial reconstruction 81.4 / 81.1 / 80.3.
_base_ = ['../prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py']

# Nothing is thrown, so there is nothing for the aggregator to rebuild: it
# would get no gradient, and DDP (find_unused_parameters=False) raises.
model = dict(head=dict(aggregator=None))

# the base pipeline, FurthestSampling (second to last) changed
train_dataloader = dict(
    dataset=dict(pipeline=[
        *_base_.train_pipeline[:-2],
        dict(_base_.train_pipeline[-2], throw_ratio=0.0),
        _base_.train_pipeline[-1],
    ]))
