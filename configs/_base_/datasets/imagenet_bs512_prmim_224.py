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
    # workers restart and are seeded anew each epoch, from the main process's
    # random state: no epoch replays another and --resume continues exactly
    # (persistent workers would carry random state a checkpoint cannot hold)
    persistent_workers=False,
    worker_init_fn=dict(type='worker_init_per_epoch'),
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
