# ROPIM with the authors' BEiT-style ViT-B/16: shared relative position bias,
# layer scale 0.1, q/v bias, LN eps 1e-6, drop path 0.1, no absolute
# position embedding; linear decoder; L1 loss in the complement subspace.
model = dict(
    type='ROPIM',
    data_preprocessor=dict(
        type='SketchDataPreprocessor',
        patch_size=16,
        rho=1 / 7,  # K' = 28 of K = 196 tokens
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ROPIMBEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        bias='qv_bias',
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=True,
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        ]),
    neck=dict(
        type='SimMIMLinearDecoder', in_channels=768, encoder_stride=16),
    head=dict(
        type='ROPIMHead',
        patch_size=16,
        loss=dict(type='PixelReconstructionLoss', criterion='L1'),
        norm_pix=False))
