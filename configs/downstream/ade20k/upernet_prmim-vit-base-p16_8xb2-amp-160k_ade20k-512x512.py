# UPerNet on a PR-MIM (or MAE) ViT-B/16 on ADE20K, 160k iterations,
# 8 GPUs x 2, layer decay 0.75 as the PR-MIM paper (paper: 46.9 mIoU after
# 800-epoch pre-training). The pre-training checkpoint loads as it is:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = ['_base_/upernet_transfer-vit-base_8xb2-160k_ade20k-512x512.py']

# MAE's ADE20K recipe: the checkpoint's absolute position embedding (resized
# to 32 x 32), plus a relative position bias per layer that starts at zero
# and layer scale 1.0, both added at transfer time: the loader leaves exactly
# these fresh (logged) and raises on any other weight the checkpoint lacks
model = dict(
    backbone=dict(
        _delete_=True,
        type='TransferBEiTViT',
        arch='base',
        img_size=(512, 512),
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        drop_path_rate=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=1.0,
        bias=True,  # MAE's full q / k / v bias
        norm_cfg=dict(type='LN', eps=1e-6),
        fresh_parameters=('relative_position_bias_table', 'gamma_1',
                          'gamma_2'),
        init_cfg=dict(type='Pretrained', checkpoint='',
                      prefix='backbone.')))

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.75))
