# ImageNet-1k linear-probing data (MMPretrain's MAE linear probe, its
# imagenet_bs32_pil_resize.py): RandomResizedCrop 224 (PIL, bilinear) and
# flip, nothing else; test resize 256 short side then center crop 224.
# 2048 images per GPU (16384 on 8 GPUs), the last partial batch dropped.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=2048,
    num_workers=8,
    drop_last=True,
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
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    drop_last=False,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
