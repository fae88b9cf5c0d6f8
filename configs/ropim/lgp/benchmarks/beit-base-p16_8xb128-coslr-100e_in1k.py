# Fine-tune an LGP-ROPIM ViT-B/16 on ImageNet-1k with the Layer Grafted
# Pre-training authors' ViT-B recipe (their COMMANDS_AND_CHECKPOINTS.md,
# "ViT-B grafting", Finetune: main_finetune_mae.py with a total batch of
# 1024, base lr 5e-4 per 256 images, layer decay 0.6, 100 epochs, the rest
# its defaults): lr 2e-3 at 1024 images, AdamW (0.9, 0.999), wd 0.05, no
# gradient clipping, 5 warmup epochs, cosine to 1e-6, drop path 0.1, mixup
# 0.8, cutmix 1.0, label smoothing 0.1, RandAugment m9, random erasing 0.25,
# mean pooling with a norm, head init trunc-normal 2e-5: the ROPIM
# fine-tuning config with the lr, layer decay, clipping and warmup changed.
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.backbone.init_cfg.checkpoint=LGP_ROPIM_CKPT
_base_ = '../../benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py'

optim_wrapper = dict(
    optimizer=dict(lr=5e-4 * 1024 / 256),
    clip_grad=None,
    paramwise_cfg=dict(layer_decay_rate=0.6))

# The recipe's warmup rises from lr 0; MMEngine's LinearLR needs a start
# factor above 0, so it rises from 1e-8 of the lr.
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-8),
    dict(_base_.param_scheduler[1], eta_min=1e-6),
]
