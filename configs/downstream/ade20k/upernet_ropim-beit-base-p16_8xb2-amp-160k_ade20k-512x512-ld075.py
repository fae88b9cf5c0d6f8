# As upernet_ropim-beit-base-p16_8xb2-amp-160k_ade20k-512x512.py with layer
# decay 0.75 (the PR-MIM paper's choice for ADE20K).
_base_ = ['upernet_ropim-beit-base-p16_8xb2-amp-160k_ade20k-512x512.py']

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.75))
