# Schedule of the tiny CPU fine-tuning configs on the demo images: AdamW lr
# 2e-3, wd 0.05, layer-wise lr decay 0.75, linear warmup over 1 epoch, cosine
# to 1e-5 over the other 9; validation every 5 epochs.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LearningRateDecayOptimWrapperConstructor',
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
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=9, eta_min=1e-5, by_epoch=True,
         begin=1, end=10, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=5)
val_cfg = dict()
test_cfg = dict()
