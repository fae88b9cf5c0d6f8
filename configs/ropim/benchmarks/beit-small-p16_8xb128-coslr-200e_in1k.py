# Fine-tune a ROPIM ViT-S/16: 200 epochs, base lr 5e-3 per 512, layer decay
# 0.65.
_base_ = ['beit-base-p16_8xb128-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='deit-small'), head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / (5e-3 * 1024 / 512),
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=195,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=200,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200)
