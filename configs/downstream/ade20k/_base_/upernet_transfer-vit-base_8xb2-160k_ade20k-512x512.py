# UPerNet on a pre-trained ViT-B/16 for ADE20K (512 x 512), as MAE / BEiT do:
# features of layers 4, 6, 8, 12 -> Feature2Pyramid (x4, x2, x1, x0.5) ->
# UPerHead, with an FCN auxiliary head. Concrete configs choose the backbone
# style (TransferViT / TransferBEiTViT) and the pre-training checkpoint.
_base_ = [
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
# the transfer components, and (also under MMSeg's / MMDet's own tools) the
# loader that reads every checkpoint with torch.load(weights_only=True)
custom_imports = dict(
    imports=['mmropim.downstream', 'mmropim.utils.use_safe_checkpoint_loader'],
    allow_failed_imports=False)
# run checkpoints that load with torch.load(weights_only=True), written to a
# temporary file and renamed into place
default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook'))
# an image that cannot be read stops the run naming the file and what to do
# (remove it from the folder, or from the annotation file that lists it)
custom_hooks = [dict(type='ImageReadErrorHook')]
norm_cfg = dict(type='SyncBN', requires_grad=True)
crop_size = (512, 512)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    backbone=dict(
        type='TransferViT',
        arch='base',
        img_size=crop_size,
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='Feature2Pyramid', embed_dim=768, rescales=[4, 2, 1, 0.5]),
    decode_head=dict(
        type='UPerHead',
        in_channels=[768, 768, 768, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=768,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=768,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# AdamW, lr 1e-4 at batch 16, wd 0.05, layer-wise decay (0.65 as MAE; the
# PR-MIM paper uses 0.75), warmup 1500 iterations then linear (poly 1.0).
optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.65,
        # MMSeg's and BEiT's groups: no decay on 1-D parameters (norms incl.
        # SyncBN, biases incl. q_bias / v_bias, layer scale); the class
        # token, the position embedding and the relative position tables
        # decay (their constructors exempt 'pos_embed' / 'cls_token' by a
        # name that never matches: docs/fidelity.md)
        flat_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=1500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=1500,
        end=160000,
        by_epoch=False),
]
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
auto_scale_lr = dict(enable=False, base_batch_size=16)
