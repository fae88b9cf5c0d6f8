# ROPIM on a plain ViT-B/16 with a learnable absolute position embedding
# (MMPretrain's VisionTransformer), otherwise as the BEiT-style config.
_base_ = ['ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ROPIMViT',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=True,
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        ]))
