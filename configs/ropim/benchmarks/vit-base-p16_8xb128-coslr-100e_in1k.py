# Fine-tune a ROPIM plain ViT-B/16 (absolute position embedding), from
# ropim_vit-base-p16_8xb256-amp-coslr-300e_in1k.py; recipe as the BEiT one.
_base_ = [
    '../../_base_/models/vit-base-p16_finetune.py',
    '../../_base_/datasets/imagenet_bs128_finetune_224.py',
    '../../_base_/schedules/imagenet_bs1024_finetune_100e.py',
    '../../_base_/default_runtime.py',
]

# The authors' fine-tuning: gradients clipped at 5.0; warmup from lr 1e-6
# (BEiT's run_class_finetuning default, which ROPIM's code keeps)
optim_wrapper = dict(clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / (5e-3 * 1024 / 512),
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=95,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=100,
        convert_to_iter_based=True),
]

default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='auto'))
