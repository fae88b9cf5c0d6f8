# Tiny CPU fine-tuning of a plain-ViT demo checkpoint (MAE / PR-MIM /
# SimMIM / ROPIM-ViT) on the 14-class demo images:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/models/vit-mini-p8_finetune.py',
    '../../_base_/datasets/demo_bs32_64px.py',
    '../../_base_/schedules/demo_finetune_10e.py',
    '../../_base_/default_runtime.py',
]

optim_wrapper = dict(
    paramwise_cfg=dict(
        _delete_=True,
        layer_decay_rate=0.75,
        flat_decay_mult=0.0,  # MAE: no decay on 1-D parameters
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))
default_hooks = dict(
    logger=dict(interval=7), checkpoint=dict(interval=5, max_keep_ckpts=1))

# MMEngine's Pretrained init loads with strict=False: a checkpoint lacking a
# backbone weight (e.g. a BEiT-style one, without pos_embed, in a plain-ViT
# config) stops the run before training instead; the pooling norm ln2 is the
# recipe's own, not in pre-training checkpoints
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='PretrainedWeightsCheckHook',
         fresh_parameters=['backbone.ln2.weight', 'backbone.ln2.bias']),
]
