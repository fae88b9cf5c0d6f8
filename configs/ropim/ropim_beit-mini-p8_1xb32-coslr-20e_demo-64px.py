# Tiny ROPIM pre-training for the CPU on the real demo images (64 px, patch 8,
# K = 64 tokens sketched to K' = 9): the README's main job and the tests'
# end-to-end run. Build the data first:
#   python tools/dataset_converters/make_demo_data.py
_base_ = [
    '../_base_/models/ropim_beit-base-p16.py',
    '../_base_/models/vit-mini-p8.py',
    '../_base_/datasets/demo_bs32_64px.py',
    '../_base_/schedules/adamw_bs2048_ropim.py',
    '../_base_/schedules/demo_pretrain_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    data_preprocessor=dict(patch_size=8),
    backbone=dict(
        arch=dict(_base_.mini_arch, _delete_=True),
        img_size=64,
        patch_size=8,
        drop_path_rate=0.0),
    neck=dict(in_channels=96, encoder_stride=8),
    head=dict(patch_size=8))

# Pre-training reads the images without labels.
train_dataloader = dict(dataset=dict(with_label=False))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=7),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
