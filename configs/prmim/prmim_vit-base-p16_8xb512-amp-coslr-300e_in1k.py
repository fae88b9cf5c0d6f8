# MAE ViT-B/16 + PR-MIM, throw ratio 0.5, 300 epochs, warmup 40.
_base_ = ['prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py']

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=260,
        by_epoch=True,
        begin=40,
        end=300,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=300)
