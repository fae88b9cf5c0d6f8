# ROPIM ViT-B/16 (BEiT-style), 800 epochs (warmup 10) on ImageNet-1k.
_base_ = ['ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py']

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1.5e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=790,
        eta_min=5e-6 * 2048 / 512,
        by_epoch=True,
        begin=10,
        end=800,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
