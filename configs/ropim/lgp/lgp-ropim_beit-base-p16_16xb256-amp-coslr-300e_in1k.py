# LGP-ROPIM ViT-B/16, the contrastive stage of Layer Grafted Pre-training on
# top of ROPIM: MoCo v3 for 300 epochs on ImageNet-1k, 16 GPUs x 256, with a
# ROPIM checkpoint grafted into both encoders:
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.backbone.init_cfg.checkpoint=ROPIM_CKPT
# Blocks 0-7 learn at a tenth of the lr of blocks 8-11 and the heads. The
# result fine-tunes with configs/ropim/lgp/benchmarks/
# beit-base-p16_8xb128-coslr-100e_in1k.py (the LGP authors' recipe) or
# configs/ropim/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py (ROPIM's);
# its backbone.* keys are ROPIM's.
_base_ = [
    '../../_base_/models/lgp-ropim_beit-base-p16.py',
    '../../_base_/datasets/imagenet_bs256_mocov3_224.py',
    '../../_base_/schedules/adamw_bs4096_lgp.py',
    '../../_base_/default_runtime.py',
]

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')

# linear warmup over 40 epochs, then a half cosine to 0
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
        T_max=260,
        by_epoch=True,
        begin=40,
        end=300,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=10, max_keep_ckpts=3))
