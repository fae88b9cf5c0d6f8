# ROPIM ViT-B/16 (BEiT-style), 300 epochs on ImageNet-1k, 8 GPUs x 256.
_base_ = [
    '../_base_/models/ropim_beit-base-p16.py',
    '../_base_/datasets/imagenet_bs128_ropim_224.py',
    '../_base_/schedules/adamw_bs2048_ropim.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')

# lr 1.5e-4 per 512 images; warmup from 5e-7, cosine to 5e-6 (per 512).
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1.5e-4,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=295,
        eta_min=5e-6 * 2048 / 512,
        by_epoch=True,
        begin=5,
        end=300,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=10, max_keep_ckpts=3))
