# Tiny CPU transfer: ViTDet-style Mask R-CNN on the demo ROPIM model
# (BEiT-style, 96-d, 4 layers, patch 8; 8 x 8 windows, global layers 2 and 4)
# on the COCO-style nuclei set, 2 epochs:
#   python tools/train.py <this config> --cfg-options \
#     model.backbone.init_cfg.checkpoint=work_dirs/ropim_demo/epoch_20.pth
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py',
    '_base_/demo_nuclei_coco_128px.py',
    '../../_base_/models/vit-mini-p8.py',
]
# the transfer components, and (also under MMSeg's / MMDet's own tools) the
# loader that reads every checkpoint with torch.load(weights_only=True)
custom_imports = dict(
    imports=['mmropim.downstream', 'mmropim.utils.use_safe_checkpoint_loader'],
    allow_failed_imports=False)
norm_cfg = dict(type='LayerNorm2d', eps=1e-6, requires_grad=True)
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='TransferBEiTViT',
        arch=_base_.mini_arch,
        img_size=(128, 128),
        patch_size=8,
        out_indices=(3, ),
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        window_size=8,
        global_indices=(1, 3),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='SimpleFeaturePyramid',
        in_channels=96,
        out_channels=64,
        scale_factors=(4.0, 2.0, 1.0, 0.5)),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        num_convs=2,
        anchor_generator=dict(scales=[4], strides=[2, 4, 8, 16, 32])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64, featmap_strides=[2, 4, 8,
                                                                  16]),
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            in_channels=64,
            conv_out_channels=64,
            fc_out_channels=128,
            norm_cfg=norm_cfg,
            num_classes=1),
        mask_roi_extractor=dict(
            out_channels=64, featmap_strides=[2, 4, 8, 16]),
        mask_head=dict(
            in_channels=64, conv_out_channels=64, norm_cfg=norm_cfg,
            num_classes=1)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(max_per_img=100)))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.7,
        custom_keys={  # the full-size configs' (ViTDet's) decay groups
            '.ln1.': dict(decay_mult=0.0),
            '.ln2.': dict(decay_mult=0.0),
            'backbone.pos_embed': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=5),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=4),
    checkpoint=dict(type='SafeCheckpointHook', interval=2))
# an image that cannot be read stops the run naming the file and what to do
# (remove it from the folder, or from the annotation file that lists it)
custom_hooks = [dict(type='ImageReadErrorHook')]
