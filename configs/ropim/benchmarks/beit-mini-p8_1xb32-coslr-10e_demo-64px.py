# Tiny CPU fine-tuning of the demo ROPIM model on the 14-class demo images.
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/models/vit-mini-p8_finetune.py',
    '../../_base_/datasets/demo_bs32_64px.py',
    '../../_base_/schedules/demo_finetune_10e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='BEiTViT',
        arch=_base_.mini_arch,
        img_size=64,
        patch_size=8,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        final_norm=False,
        out_type='avg_featmap',
        # stochastic depth once on the FFN branch, as the full-size configs
        layer_cfgs=dict(ffn_cfg=dict(add_identity=False, dropout_layer=None)),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

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
