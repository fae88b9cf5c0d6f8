# MAE ViT-B/16 + PR-MIM, throw ratio 0.5 (of all tokens), 100 epochs,
# warmup 40, 8 GPUs x 512 (paper: 81.8 top-1 after fine-tuning).
_base_ = [
    '../_base_/models/prmim_vit-base-p16.py',
    '../_base_/datasets/imagenet_bs512_prmim_224.py',
    '../_base_/schedules/adamw_bs4096_prmim.py',
    '../_base_/default_runtime.py',
]

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=60,
        by_epoch=True,
        begin=40,
        end=100,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
