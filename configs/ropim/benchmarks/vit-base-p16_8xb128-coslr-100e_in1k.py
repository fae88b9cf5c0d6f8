# Fine-tune a ROPIM plain ViT-B/16 (absolute position embedding), from
# ropim_vit-base-p16_8xb256-amp-coslr-300e_in1k.py; recipe as the BEiT one.
_base_ = ['beit-base-p16_8xb128-coslr-100e_in1k.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=False,
        out_type='avg_featmap',
        init_cfg=dict(
            type='Pretrained', checkpoint='', prefix='backbone.')))
