# MAE ViT-B/16 + PR-MIM: 8-layer 512-d decoder over the visible and retained
# tokens only; depth-wise 7x7 spatial aggregator rebuilds the thrown tokens;
# normalized-pixel L2 over all masked tokens.
model = dict(
    type='PRMIM',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(type='PRMIMViT', arch='b', img_size=224, patch_size=16),
    neck=dict(
        type='PRMIMDecoder',
        num_patches=196,
        embed_dim=768,
        decoder_embed_dim=512,
        decoder_depth=8,
        decoder_num_heads=16,
        mlp_ratio=4.),
    head=dict(
        type='PRMIMHead',
        in_channels=512,
        patch_size=16,
        aggregator=dict(type='SpatialAggregator', kernel_size=7),
        norm_pix=True,
        loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ])
