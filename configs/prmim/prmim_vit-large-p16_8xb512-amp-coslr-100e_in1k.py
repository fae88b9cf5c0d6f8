# MAE ViT-L/16 + PR-MIM, throw ratio 0.5, 100 epochs (paper: 83.2).
_base_ = ['prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='l'),
    neck=dict(embed_dim=1024))
