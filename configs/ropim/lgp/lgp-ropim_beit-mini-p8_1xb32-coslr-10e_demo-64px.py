# Tiny LGP-ROPIM contrastive stage for the CPU on the demo images: MoCo v3 on
# the demo ROPIM model (ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py),
# grafted into both encoders; the lower 2 of its 4 blocks learn at a tenth
# of the lr of the upper 2 and the heads. Then fine-tune the result with
# configs/ropim/benchmarks/beit-mini-p8_1xb32-coslr-10e_demo-64px.py.
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.backbone.init_cfg.checkpoint=ROPIM_DEMO_CKPT
_base_ = [
    '../../_base_/models/lgp-ropim_beit-base-p16.py',
    '../../_base_/models/vit-mini-p8.py',
    '../../_base_/schedules/adamw_bs4096_lgp.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        arch=dict(_base_.mini_arch, _delete_=True),
        img_size=64,
        patch_size=8),
    # batch norm per process: SyncBN (the recipe's, across GPUs) does not
    # run on CPUs under tools/dist_train.sh
    neck=dict(
        in_channels=96,
        hid_channels=384,
        out_channels=64,
        norm_cfg=dict(type='BN1d')),
    head=dict(
        predictor=dict(
            in_channels=64,
            hid_channels=384,
            out_channels=64,
            norm_cfg=dict(type='BN1d'))))

view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.2, 1.),
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='HueSafeColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.2,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    worker_init_fn=dict(type='worker_init_per_epoch'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root='data/demo/imagenet/',
        data_prefix='train',
        with_label=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(
                type='MultiView',
                num_views=[2],
                transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ]))

# 2 groups of 2 blocks: the lower at 1.5e-4, the upper and the heads at
# 1.5e-3 (the demo pre-training's lr)
optim_wrapper = dict(
    optimizer=dict(lr=10.0),
    paramwise_cfg=dict(layer_group_lr_scales=[1.5e-5, 1.5e-4]))
auto_scale_lr = dict(base_batch_size=32)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=9, by_epoch=True, begin=1, end=10,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10)
default_hooks = dict(
    logger=dict(interval=7),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
