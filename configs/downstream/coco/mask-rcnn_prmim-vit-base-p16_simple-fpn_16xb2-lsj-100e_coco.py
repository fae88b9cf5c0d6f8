# As the batch-64 config with the PR-MIM paper's batch 32 and half the
# learning rate (linear scaling): 50.8 APb / 45.2 APm after 800-epoch
# PR-MIM pre-training in the paper.
_base_ = ['mask-rcnn_prmim-vit-base-p16_simple-fpn_32xb2-lsj-100e_coco.py']

optim_wrapper = dict(optimizer=dict(lr=5e-5))
auto_scale_lr = dict(base_batch_size=32)
