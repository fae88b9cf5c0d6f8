# PR-MIM mixed into MMPretrain's own MAE ViT-B/16 300-epoch config: its
# optimizer, schedule, data and runtime stay as they are; the mask moves into
# the data pipeline (FurthestSampling) and the encoder, decoder and head
# become PR-MIM's. The stock parts' arguments carry over: the backbone's
# mask_ratio checks the pipeline's, the neck's patch_size / in_chans are
# checked against the head's.
_base_ = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'
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
    backbone=dict(type='PRMIMViT'),
    neck=dict(type='PRMIMDecoder'),
    head=dict(type='PRMIMHead', in_channels=512))  # the decoder width
