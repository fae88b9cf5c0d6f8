# Tiny MAE + PR-MIM pre-training for the CPU on the real demo images: 64 px,
# patch 8 (8 x 8 = 64 tokens), 48 masked, 32 of them thrown (throw ratio 0.5),
# furthest sampling + 3x3 aggregator. Build the data first:
#   python tools/dataset_converters/make_demo_data.py
_base_ = [
    '../_base_/models/prmim_vit-base-p16.py',
    '../_base_/models/vit-mini-p8.py',
    '../_base_/datasets/demo_bs32_64px.py',
    '../_base_/schedules/adamw_bs4096_prmim.py',
    '../_base_/schedules/demo_pretrain_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        arch=dict(_base_.mini_arch, _delete_=True),
        img_size=64,
        patch_size=8),
    neck=dict(
        num_patches=64,
        embed_dim=96,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=2),
    head=dict(
        in_channels=64,
        patch_size=8,
        aggregator=dict(type='SpatialAggregator', kernel_size=3)))

train_dataloader = dict(
    dataset=dict(
        with_label=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(
                type='RandomResizedCrop',
                scale=64,
                crop_ratio_range=(0.5, 1.0),
                backend='pillow',
                interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(
                type='FurthestSampling',
                input_size=64,
                patch_size=8,
                mask_ratio=0.75,
                throw_ratio=0.5,
                mode='furthest'),
            dict(type='PackInputs', algorithm_keys=['throw_mask']),
        ]))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

optim_wrapper = dict(
    type='OptimWrapper',  # fp32 on the CPU
    _delete_=True,
    optimizer=dict(
        type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=_base_.optim_wrapper.paramwise_cfg)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=7),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
