# ROPIM ViT-S/16 (BEiT-style, DeiT-S widths), 300 epochs, lr 1.5e-4 per 512.
_base_ = ['ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py']

model = dict(
    backbone=dict(arch='deit-small'),
    neck=dict(in_channels=384))
