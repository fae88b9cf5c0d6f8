# SimMIM + PR-MIM on a plain ViT-B/16, 800 epochs, warmup 10.
_base_ = ['prmim-simmim_vit-base-p16_8xb256-amp-coslr-100e_in1k.py']

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 2e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=790,
        eta_min=1e-5 * 2048 / 512,
        by_epoch=True,
        begin=10,
        end=800,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
