# Tiny CPU fine-tuning of a plain-ViT demo checkpoint (MAE / PR-MIM /
# SimMIM / ROPIM-ViT) on the 14-class demo images:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = ['../../ropim/benchmarks/beit-mini-p8_1xb32-coslr-10e_demo-64px.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch=dict(
            embed_dims=96, num_layers=4, num_heads=3,
            feedforward_channels=384),
        img_size=64,
        patch_size=8,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=False,
        out_type='avg_featmap',
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
optim_wrapper = dict(
    paramwise_cfg=dict(
        _delete_=True,
        layer_decay_rate=0.75,
        custom_keys={
            '.ln': dict(decay_mult=0.0),
            '.bias': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))
