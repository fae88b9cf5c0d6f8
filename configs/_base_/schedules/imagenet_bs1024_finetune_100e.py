# ImageNet-1k fine-tuning schedule (BEiT / ROPIM authors' recipe) for a total
# batch of 1024: AdamW (0.9, 0.999), wd 0.05, base lr 5e-3 per 512 images,
# layer-wise lr decay 0.75 (BEiT parameter names), gradients clipped at 5.0,
# 5 warmup epochs from lr 1e-6 (1e-4 of the lr), then cosine to 1e-6 over 95
# (BEiT's defaults; the ROPIM benchmarks set the authors' per-size warmup
# start and final lr); validation every epoch.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW',
        lr=5e-3 * 1024 / 512,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    constructor='LearningRateDecayOptimWrapperConstructor',
    clip_grad=dict(max_norm=5.0),  # the ROPIM authors' fine-tuning
    paramwise_cfg=dict(
        layer_decay_rate=0.75,
        # BEiT's / MAE's groups: no decay on 1-D parameters (norms, biases,
        # q_bias / v_bias, layer scale), the class token and the position
        # embedding; relative position tables are decayed
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,  # from lr 1e-6 (BEiT's default)
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

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
