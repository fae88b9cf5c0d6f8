# As the ROPIM batch-64 config with batch 32 and half the learning rate.
_base_ = ['mask-rcnn_ropim-beit-base-p16_simple-fpn_32xb2-lsj-100e_coco.py']

optim_wrapper = dict(optimizer=dict(lr=5e-5))
auto_scale_lr = dict(base_batch_size=32)
