# Tiny CPU linear probe of the demo ROPIM model (BEiT-style) on the 14-class
# demo images, in the style of beit-base-p16_8xb2048-linear-coslr-90e_
# in1k.py, 10 epochs:
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../../_base_/models/vit-mini-p8_linear.py',
    '../../_base_/datasets/demo_bs32_64px.py',
    '../../_base_/schedules/demo_linear_10e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='BEiTViT',
        arch=_base_.mini_arch,
        img_size=64,
        patch_size=8,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,  # the shared table is copied into each layer
        use_shared_rel_pos_bias=False,
        # every layer, the final norm included
        frozen_stages=_base_.mini_arch['num_layers'],
        out_type='cls_token',
        final_norm=True,
        # one DropPath per branch (none at rate 0), as the fine-tuning
        layer_cfgs=dict(ffn_cfg=dict(add_identity=False, dropout_layer=None)),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

train_dataloader = dict(drop_last=True)
default_hooks = dict(
    logger=dict(interval=7), checkpoint=dict(interval=5, max_keep_ckpts=1))

# MMEngine's Pretrained init loads with strict=False: a checkpoint lacking a
# backbone weight stops the run before training instead
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='PretrainedWeightsCheckHook'),
]
