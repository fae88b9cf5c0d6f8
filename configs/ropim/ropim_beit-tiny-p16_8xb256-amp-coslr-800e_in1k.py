# ROPIM ViT-T/16 (BEiT-style, DeiT-T widths), 800 epochs, lr 1e-3 per 512.
# The authors pre-train ViT-T this way on ImageNet-100; on ImageNet-1k it is
# an extrapolation of their setting, not a reproduction.
_base_ = ['ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py']

model = dict(
    backbone=dict(arch='deit-tiny'),
    neck=dict(in_channels=192))
optim_wrapper = dict(optimizer=dict(lr=1e-3 * 2048 / 512))
# the authors' ViT-T yaml: 5 warmup epochs (not 10) from 5e-7 per 512, cosine
# to 5e-6 per 512 (their config.py default) over the remaining 795
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=795,
        eta_min=5e-6 * 2048 / 512,
        by_epoch=True,
        begin=5,
        end=800,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
