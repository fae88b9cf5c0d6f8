# As upernet_prmim-vit-base-p16_8xb2-amp-160k_ade20k-512x512.py with MAE's
# layer decay 0.65.
_base_ = ['upernet_prmim-vit-base-p16_8xb2-amp-160k_ade20k-512x512.py']

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
