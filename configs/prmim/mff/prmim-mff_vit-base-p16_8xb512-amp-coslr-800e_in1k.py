# MFF + PR-MIM: MMPretrain's MFF (multi-level feature fusion in the MAE
# encoder, its augmentation and seed) with furthest sampling, the partial
# decoder and the spatial aggregator; throw ratio 0.5, 800 epochs
# (paper: MFF 83.6 -> 83.8 top-1 with PR-MIM).
_base_ = ['../prmim_vit-base-p16_8xb512-amp-coslr-800e_in1k.py']

randomness = dict(seed=2, diff_rank_seed=True)

model = dict(
    backbone=dict(type='PRMIMMFFViT', out_indices=[0, 2, 4, 6, 8, 11]))

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='ToPIL', to_rgb=True),
        dict(type='torchvision/Resize', size=224),
        dict(
            type='torchvision/RandomCrop',
            size=224,
            padding=4,
            padding_mode='reflect'),
        dict(type='torchvision/RandomHorizontalFlip', p=0.5),
        dict(type='ToNumpy', to_bgr=True),
        *_base_.train_pipeline[-2:],  # FurthestSampling, PackInputs
    ]))
