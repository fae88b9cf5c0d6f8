# Linear-probing schedule of MMPretrain's MAE linear probe for a total batch
# of 16384 (8 x 2048): LARS (momentum 0.9, no weight decay), lr 6.4 (0.1 per
# 256 images), AMP, 10 warmup epochs from 1e-4 of the lr, then cosine to 0
# over 80; validation every epoch. MMPretrain's LARS applies the trust ratio
# to the head's bias too (MAE's own LARS leaves 1-D parameters out).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='LARS', lr=0.1 * 16384 / 256, weight_decay=0.0, momentum=0.9))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=80,
        eta_min=0.0,
        by_epoch=True,
        begin=10,
        end=90,
        convert_to_iter_based=True),
]

train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=16384)
