# ImageNet-1k pre-training data for ROPIM (authors' augmentation: their
# RandomResizedCrop is torchvision's with no interpolation given, i.e.
# bilinear on PIL images, which the pillow backend reproduces).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.67, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=128,
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
