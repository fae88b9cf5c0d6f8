# Fine-tune a ROPIM plain ViT-B/16 (absolute position embedding), from
# ropim_vit-base-p16_8xb256-amp-coslr-300e_in1k.py; recipe as the BEiT one.
_base_ = [
    '../../_base_/models/vit-base-p16_finetune.py',
    '../../_base_/datasets/imagenet_bs128_finetune_224.py',
    '../../_base_/schedules/imagenet_bs1024_finetune_100e.py',
    '../../_base_/default_runtime.py',
]


default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='auto'))
