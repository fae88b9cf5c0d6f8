# SimMIM + PR-MIM on SimMIM's ViT-B/16 recipe, 800 epochs: warmup 10, the
# lr x0.1 at epoch 700 (SimMIM's simmim_pretrain__vit_base__img224__800ep).
_base_ = ['prmim-simmim_vit-base-p16_8xb256-amp-coslr-100e_in1k.py']

param_scheduler = [
    _base_.param_scheduler[0],
    # epoch 700: MMEngine counts the milestones from `begin` (10)
    dict(_base_.param_scheduler[1], milestones=[690], end=800),
]
train_cfg = dict(max_epochs=800)
