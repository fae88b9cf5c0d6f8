# SimMIM + PR-MIM on SimMIM's ViT-B/16 recipe (224 px, 32 px mask blocks,
# mask ratio 0.6, throw ratio 0.3 of all tokens, as the paper's
# "SimMIM+PR-MIM, 30" row): the encoder drops thrown tokens, a 7x7
# depth-wise aggregator rebuilds them, SimMIM's linear decoder and masked L1
# loss follow. SimMIM's ViT (no absolute position embedding, a shared
# relative position bias, layer scale 0.1) and optimizer (lr 1e-4 per 512
# images, warmup from 5e-7 per 512, clip 5, one step x0.1). SimMIM published
# no 100-epoch ViT schedule: the step is at 7/8 of the run, as the
# 800-epoch recipe's step at epoch 700. docs/fidelity.md compares values.
_base_ = [
    '../_base_/datasets/imagenet_bs512_prmim_224.py',
    '../_base_/default_runtime.py'
]

model = dict(
    type='PRMIMSimMIM',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='PRMIMSimMIMBEiTViT',
        arch='b',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        use_abs_pos_emb=False,
        use_shared_rel_pos_bias=True,
        layer_scale_init_value=0.1,
        bias='qv_bias',
        norm_cfg=dict(type='LN', eps=1e-6)),
    neck=dict(
        type='PRMIMLinearDecoder',
        in_channels=768,
        patch_size=16,
        aggregator=dict(type='SpatialAggregator', kernel_size=7)),
    head=dict(
        type='SimMIMHead',
        patch_size=16,
        loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

# the PR-MIM ImageNet data, with SimMIM's crop (0.67-1.0, 3:4-4:3), mask
# blocks and mask ratio, 256 images per GPU
train_pipeline = [
    _base_.train_pipeline[0],
    dict(
        _base_.train_pipeline[1],
        crop_ratio_range=(0.67, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        interpolation='bilinear'),  # torchvision's default, as SimMIM's
    _base_.train_pipeline[2],
    dict(
        _base_.train_pipeline[3],
        mask_ratio=0.6,
        throw_ratio=0.3,
        mask_patch_size=32),
    _base_.train_pipeline[4],
]
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW',
        lr=1e-4 * 2048 / 512,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    # SimMIM's groups: no decay on 1-D parameters (norms, biases, q/v bias,
    # layer scale) and the class token; its ViT decays the mask token and
    # the relative position table
    paramwise_cfg=dict(
        flat_decay_mult=0.0, custom_keys={'cls_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        milestones=[78],  # epoch 88: MMEngine counts from `begin`
        gamma=0.1,
        by_epoch=True,
        begin=10,
        end=100,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=2048)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
