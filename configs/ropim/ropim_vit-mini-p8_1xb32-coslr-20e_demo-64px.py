# The tiny ROPIM demo pre-training on a plain ViT (absolute position
# embedding, MMPretrain's VisionTransformer) instead of the BEiT-style one,
# for comparisons with the MAE-family tiny configs.
_base_ = ['ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ROPIMViT',
        arch=_base_.mini_arch,
        img_size=64,
        patch_size=8,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=True,
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        ]))
