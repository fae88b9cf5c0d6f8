# ImageNet-1k pre-training data for MAE + PR-MIM: MAE's augmentation, then
# FurthestSampling draws the mask and the thrown tokens in the data workers.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='FurthestSampling',
        input_size=224,
        patch_size=16,
        mask_ratio=0.75,
        throw_ratio=0.5,
        mode='furthest'),
    # `mask` is packed by default; the throw mask is an algorithm key
    dict(type='PackInputs', algorithm_keys=['throw_mask']),
]

train_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
