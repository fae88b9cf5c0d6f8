# Tiny CPU transfer: UPerNet on the demo ROPIM model (BEiT-style ViT, 96-d,
# 4 layers, patch 8, pre-trained at 64 px; position tables are resized to the
# 16 x 16 grid of 128 px crops) on the ADE20K-style nuclei set:
#   python tools/train.py <this config> --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/ropim_demo/epoch_20.pth
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '_base_/demo_nuclei_128px.py',
    '../../_base_/models/vit-mini-p8.py',
]
# the transfer components, and (also under MMSeg's / MMDet's own tools) the
# loader that reads every checkpoint with torch.load(weights_only=True)
custom_imports = dict(
    imports=['mmropim.downstream', 'mmropim.utils.use_safe_checkpoint_loader'],
    allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(128, 128)),
    backbone=dict(
        type='TransferBEiTViT',
        arch=_base_.mini_arch,
        img_size=(128, 128),
        patch_size=8,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    # BN, not Feature2Pyramid's default SyncBN, which DDP refuses on CPUs
    neck=dict(
        type='Feature2Pyramid',
        embed_dim=96,
        rescales=[4, 2, 1, 0.5],
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='UPerHead',
        in_channels=[96, 96, 96, 96],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=64,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=96,
        in_index=2,
        channels=32,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.75,
        # the full-size configs' (MMSeg's / BEiT's) decay groups
        flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0,
         end=10),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=10, end=40,
         by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=40))
# an image that cannot be read stops the run naming the file and what to do
# (remove it from the folder, or from the annotation file that lists it)
custom_hooks = [dict(type='ImageReadErrorHook')]
