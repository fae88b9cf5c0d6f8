# Fine-tune a ROPIM ViT-T/16: 100 epochs, base lr 1e-2 per 512, layer decay
# 0.7.
_base_ = ['beit-base-p16_8xb128-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='deit-tiny'), head=dict(in_channels=192))
optim_wrapper = dict(
    optimizer=dict(lr=1e-2 * 1024 / 512),
    paramwise_cfg=dict(layer_decay_rate=0.7))
