# LGP-ROPIM's contrastive stage on ROPIM's BEiT-style ViT-B/16: MMPretrain's
# MoCo v3 (3-layer projector, 2-layer predictor, temperature 0.2, momentum
# 0.99 -> 1 on a cosine) with the ROPIM checkpoint grafted into both
# encoders (set model.backbone.init_cfg.checkpoint). The backbone is the
# ROPIM pre-training one (shared relative position bias, layer scale, q/v
# bias, LN eps 1e-6, final norm) reading out the class token, without drop
# path, its patch embedding frozen as in MoCo v3's ViT.
temperature = 0.2
model = dict(
    type='LGPMoCoV3',
    base_momentum=0.01,
    l1_dist_weight=0.,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='LGPBEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.0,
        layer_scale_init_value=0.1,
        bias='qv_bias',
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=True,
        out_type='cls_token',
        stop_grad_conv1=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(
        type='NonLinearNeck',
        in_channels=768,
        hid_channels=4096,
        out_channels=256,
        num_layers=3,
        with_bias=False,
        with_last_bn=True,
        with_last_bn_affine=False,
        with_last_bias=False,
        with_avg_pool=False),
    head=dict(
        type='MoCoV3Head',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=False,
            with_last_bn=True,
            with_last_bn_affine=False,
            with_last_bias=False,
            with_avg_pool=False),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature),
        temperature=temperature))
