# ImageNet-1k for MoCo v3 on ViTs, MMPretrain's MoCo v3 ViT pipelines: two
# views of each image, each a random resized crop (scale 0.08-1), colour
# jitter (p 0.8), grayscale (p 0.2), Gaussian blur (p 1.0 / 0.1),
# solarization (p 0 / 0.2) and a horizontal flip. HueSafeColorJitter is
# MMPretrain's ColorJitter with a hue step that also runs under NumPy 2.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

view_pipeline1 = [
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.08, 1.),
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
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=1.),
    dict(type='Solarize', thr=128, prob=0.),
    dict(type='RandomFlip', prob=0.5),
]
# the second view: blur 0.1 instead of always, solarization 0.2
view_pipeline2 = [
    *view_pipeline1[:3],
    dict(view_pipeline1[3], prob=0.1),
    dict(view_pipeline1[4], prob=0.2),
    view_pipeline1[5],
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        num_views=[1, 1],
        transforms=[view_pipeline1, view_pipeline2]),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    # workers seeded anew each epoch from the main process's random state,
    # so that --resume continues exactly (as our other configs)
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
