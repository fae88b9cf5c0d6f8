# Fine-tune a PR-MIM ViT-L/16: 50 epochs, base lr 1e-3 per 256 images, layer
# decay 0.75, drop path 0.2.
_base_ = ['vit-base-p16_8xb128-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2),
    head=dict(in_channels=1024))
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 1024 / 256),
    paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = [  # 5 warmup epochs, cosine over 45
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=45, end=50),
]
train_cfg = dict(max_epochs=50)
