# PR-MIM mixed into MMPretrain's own MFF ViT-B/16 800-epoch config (MAE with
# multi-level feature fusion): as the MAE mix, with MFF's encoder taking the
# pipeline's mask; MFF's out_indices and fusion stay as they are.
_base_ = 'mmpretrain::mff/mff_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'
# our components, and (also under MMPretrain's own tools/train.py) the
# loader that reads every checkpoint with torch.load(weights_only=True)
custom_imports = dict(
    imports=['mmropim', 'mmropim.utils.use_safe_checkpoint_loader'],
    allow_failed_imports=False)
# checkpoints that resume with torch.load(weights_only=True) (the stock
# config resumes automatically), with every rank's random states
default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook'))
# the stock optimizer as it is: its decay key 'ln' exempts PRMIMHead's norm
# (ln1, as MAE's decoder norm)

train_dataloader = dict(
    # MMEngine passes every key of collate_fn to the function, including the
    # _scope_ it adds to a package base's dicts: restate it without
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=[
        *_base_.train_pipeline[:-1],  # the stock crop and flip
        dict(
            type='FurthestSampling',
            input_size=224,
            patch_size=16,
            mask_ratio=0.75,
            throw_ratio=0.5),
        dict(type='PackInputs', algorithm_keys=['throw_mask']),
    ]))
model = dict(
    type='PRMIM',
    backbone=dict(type='PRMIMMFFViT'),
    neck=dict(type='PRMIMDecoder'),
    head=dict(type='PRMIMHead', in_channels=512))  # the decoder width
