# MAE's pre-training optimizer as PR-MIM uses it: AdamW (0.9, 0.95), wd 0.05,
# base lr 1.5e-4 per 256 images (2.4e-3 at the total batch of 4096).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1.5e-4 * 4096 / 256, betas=(0.9, 0.95),
        weight_decay=0.05),
    # MMPretrain's MAE keys (they exempt PRMIMHead's ln1 as MAE's decoder
    # norm); flat_decay_mult: no decay on any 1-D parameter whatever its name
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'ln': dict(decay_mult=0.0),
            'bias': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
        }))

auto_scale_lr = dict(base_batch_size=4096)
