# Fine-tune a ROPIM plain ViT-B/16 (absolute position embedding), from
# ropim_vit-base-p16_8xb256-amp-coslr-300e_in1k.py; recipe as the BEiT one.
_base_ = [
    '../../_base_/models/vit-base-p16_finetune.py',
    '../../_base_/datasets/imagenet_bs128_finetune_224.py',
    '../../_base_/schedules/imagenet_bs1024_finetune_100e.py',
    '../../_base_/default_runtime.py',
]

# the authors' ViT-B schedule, as the BEiT-style benchmark: warmup from 2.5e-7
# and cosine to 5e-6 per 512 images (5e-7 and 1e-5 at this batch)
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=2.5e-7 / 5e-3),
    dict(_base_.param_scheduler[1], eta_min=5e-6 * 1024 / 512),
]

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
