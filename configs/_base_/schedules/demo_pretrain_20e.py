# Schedule of the tiny CPU pre-training configs on the demo images: linear
# warmup over 2 epochs, cosine to 1e-5 over the other 18.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-2,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=18,
        eta_min=1e-5,
        by_epoch=True,
        begin=2,
        end=20,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
