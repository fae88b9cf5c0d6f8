# Authors' pre-training optimizer: AdamW (0.9, 0.95), eps 1e-8, wd 0.05, grad
# clip 5, base lr 1.5e-4 per 512 images; here for a total batch of 2048
# (auto_scale_lr rescales it for other batch sizes with --auto-scale-lr).
# Concrete configs add the warmup + cosine schedule and the epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        lr=1.5e-4 * 2048 / 512,
        betas=(0.9, 0.95),
        eps=1e-8,
        weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    # the authors' groups: no decay on 1-D parameters (norms, biases,
    # q_bias / v_bias, layer scale) and the class token / position
    # embedding; the relative position table is decayed
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
        }))

auto_scale_lr = dict(base_batch_size=2048)
