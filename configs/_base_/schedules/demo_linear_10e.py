# Schedule of the tiny CPU linear-probe configs on the demo images: LARS
# (momentum 0.9, no weight decay) at the full-size probe's lr 6.4 (the trust
# ratio sets the step of each weight), linear warmup over 1 epoch from 1e-4
# of it, cosine to 0 over the other 9; validation every 5 epochs.
optim_wrapper = dict(
    optimizer=dict(type='LARS', lr=6.4, weight_decay=0.0, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=9, eta_min=0.0, by_epoch=True,
         begin=1, end=10, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=5)
val_cfg = dict()
test_cfg = dict()
