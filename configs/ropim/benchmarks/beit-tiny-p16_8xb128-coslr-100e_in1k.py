# Fine-tune a ROPIM ViT-T/16: 100 epochs, base lr 1e-2 per 512, layer decay
# 0.7. The authors give this ViT-T recipe for ImageNet-100 (their ViT-T
# results are ImageNet-100's); it runs here on ImageNet-1k unchanged, an
# extrapolation of their setting, not a reproduction.
_base_ = ['beit-base-p16_8xb128-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='deit-tiny'), head=dict(in_channels=192))
optim_wrapper = dict(
    optimizer=dict(lr=1e-2 * 1024 / 512),
    paramwise_cfg=dict(layer_decay_rate=0.7))
# the authors' ViT-T yaml: warmup from and cosine to 2.5e-7 per 512 images
# (5e-7 at this batch; the start factor is relative to this lr)
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=2.5e-7 / 1e-2),
    dict(_base_.param_scheduler[1], eta_min=2.5e-7 * 1024 / 512),
]
