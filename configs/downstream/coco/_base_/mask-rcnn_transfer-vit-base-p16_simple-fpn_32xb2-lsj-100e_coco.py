# Mask R-CNN on a pre-trained ViT-B/16, ViTDet-style: window attention (14 x
# 14 windows, ViTDet's: the 64 x 64 grid of 1024 px inputs is zero-padded to
# 70 x 70) with global attention in layers 3, 6, 9, 12; simple feature
# pyramid with LN2d (eps 1e-6, ViTDet's); 4conv1fc box head and mask head
# with LN2d; LSJ 1024, 100 epochs (RepeatDataset x4, 25 epochs), batch 64,
# AdamW lr 1e-4, wd 0.1, layer decay 0.7. Concrete configs choose the
# backbone style and the checkpoint.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
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
image_size = (1024, 1024)
norm_cfg = dict(type='LayerNorm2d', eps=1e-6, requires_grad=True)
model = dict(
    data_preprocessor=dict(
        pad_size_divisor=32,
        batch_augments=[
            dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)
        ]),
    backbone=dict(
        _delete_=True,
        type='TransferViT',
        arch='base',
        img_size=image_size,
        patch_size=16,
        out_indices=(11, ),
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        window_size=14,
        global_indices=(2, 5, 8, 11),
        # ViTDet's backbone: no class token in the sequence (the
        # checkpoint's class token and its position are left out), ViTDet's
        # decomposed relative positions, zero at the start
        with_cls_token=False,
        use_rel_pos=True,
        fresh_parameters=('rel_pos_h', 'rel_pos_w'),
        # ViTDet keeps the pre-training 14 x 14 positions and interpolates
        # them to the 64 x 64 grid in every forward
        pretrain_img_size=224,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='SimpleFeaturePyramid',
        in_channels=768,
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5)),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

# test images are resized and padded to the 1024 x 1024 grid the backbone
# was built for (its relative position tables are tied to it). detectron2's
# ViTDet pads after normalizing, with zeros: the mean colour. The pipeline pads
# the BGR uint8 image before normalizing, so it pads with the data
# preprocessor's mean (RGB) reversed and rounded: within half a grey level of
# zero once normalized (MMDet's port pads with 114 instead).
pixel_mean_rgb = [123.675, 116.28, 103.53]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(
        type='Pad',
        size=image_size,
        pad_val=dict(img=tuple(round(c) for c in pixel_mean_rgb[::-1]))),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.7,
        # ViTDet's groups: no decay on the norms of the backbone's blocks and
        # on its position embedding; everything else decays, biases (q / v
        # bias too), LN2d of the pyramid and the heads, relative positions,
        # layer scale and the class token included (docs/fidelity.md)
        custom_keys={
            '.ln1.': dict(decay_mult=0.0),
            '.ln2.': dict(decay_mult=0.0),
            'backbone.pos_embed': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=250),
    dict(
        type='MultiStepLR',
        begin=0,
        end=25,
        by_epoch=True,
        milestones=[22, 24],
        gamma=0.1),
]
auto_scale_lr = dict(enable=False, base_batch_size=64)
