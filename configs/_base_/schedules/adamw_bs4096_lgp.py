# LGP's contrastive-stage optimizer: AdamW, weight decay 0.1, base lr 1 per
# 256 images (16 for a total batch of 4096), each group of blocks at its own
# fraction of it (paramwise_cfg.layer_group_lr_scales, LGP's
# --lr_layer_wise); 1-D parameters are not decayed. Concrete configs add the
# warmup + cosine schedule and the epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.0 * 4096 / 256, weight_decay=0.1),
    constructor='LayerGroupLrOptimWrapperConstructor',
    # ViT-B: blocks 0-7 at 1.5e-5 * 16 = 2.4e-4, blocks 8-11, the final
    # norm, projector and predictor at 1.5e-4 * 16 = 2.4e-3 (MoCo v3's lr)
    paramwise_cfg=dict(layer_group_lr_scales=[1.5e-5, 1.5e-5, 1.5e-4]))
# as MMPretrain's MoCo v3 configs
find_unused_parameters = True

auto_scale_lr = dict(base_batch_size=4096)
