# Fine-tune a PR-MIM (or MAE) ViT-B/16 on ImageNet-1k: 100 epochs, base lr
# 5e-4 per 256 images, layer decay 0.65, drop path 0.1, global pooling + fc
# norm, RandAugment (9, 0.5), random erasing 0.25, mixup 0.8, cutmix 1.0,
# label smoothing 0.1 -- the plain-ViT fine-tuning recipe of the ROPIM
# benchmarks (../../_base_/models/vit-base-p16_finetune.py,
# ../../_base_/schedules/imagenet_bs1024_finetune_100e.py) with PR-MIM's
# learning rate and layer decay, without gradient clipping.
# The pre-training checkpoint loads as it is:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/models/vit-base-p16_finetune.py',
    '../../_base_/datasets/imagenet_bs128_finetune_224.py',
    '../../_base_/schedules/imagenet_bs1024_finetune_100e.py',
    '../../_base_/default_runtime.py',
]

optim_wrapper = dict(
    optimizer=dict(lr=5e-4 * 1024 / 256),
    clip_grad=None,  # MAE's fine-tuning clips no gradient
    paramwise_cfg=dict(
        _delete_=True,
        layer_decay_rate=0.65,
        flat_decay_mult=0.0,  # MAE: no decay on 1-D parameters
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))


default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='auto'))

# MMEngine's Pretrained init loads with strict=False: a checkpoint lacking a
# backbone weight (e.g. a BEiT-style one, without pos_embed, in a plain-ViT
# config) stops the run before training instead; the pooling norm ln2 is the
# recipe's own, not in pre-training checkpoints
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='PretrainedWeightsCheckHook',
         fresh_parameters=['backbone.ln2.weight', 'backbone.ln2.bias']),
]
