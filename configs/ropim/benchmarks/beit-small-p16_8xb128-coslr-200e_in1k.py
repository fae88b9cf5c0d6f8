# Fine-tune a ROPIM ViT-S/16: 200 epochs, base lr 5e-3 per 512, layer decay
# 0.65.
_base_ = ['beit-base-p16_8xb128-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='deit-small'), head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
# the authors' ViT-S yaml: warmup from and cosine to 2.5e-7 per 512 images
# (5e-7 at this batch), 5 warmup epochs, cosine over 195
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=195, end=200,
         eta_min=2.5e-7 * 1024 / 512),
]
train_cfg = dict(max_epochs=200)
