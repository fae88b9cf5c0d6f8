# ROPIM mixed into MMPretrain's own BEiT ViT-B/16 300-epoch config: its
# optimizer, schedule, colour jitter, flip, crop and runtime stay as they are.
# The block mask and the DALL-E tokenizer target go; the sketch preprocessor
# projects the patch embeddings, a linear decoder reconstructs the pixels and
# the loss is taken in the complement subspace. The stock backbone's
# arguments (layer scale, drop path, out_type, init) carry over to
# ROPIMBEiTViT.
_base_ = 'mmpretrain::beit/beit_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'
# our components, and (also under MMPretrain's own tools/train.py) the
# loader that reads every checkpoint with torch.load(weights_only=True)
custom_imports = dict(
    imports=['mmropim', 'mmropim.utils.use_safe_checkpoint_loader'],
    allow_failed_imports=False)
# checkpoints that resume with torch.load(weights_only=True), with every
# rank's random states
default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook'))

# the model carries its own preprocessor (below), not the stock two-norm
# (image + tokenizer input) one
data_preprocessor = None
train_dataloader = dict(
    # MMEngine passes every key of collate_fn to the function, including the
    # _scope_ it adds to a package base's dicts: restate it without
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=[
        *_base_.train_pipeline[:3],  # load, colour jitter, flip
        # the stock crop, one view (no second size: there is no tokenizer)
        dict(_base_.train_pipeline[3], second_size=None),
        dict(type='PackInputs'),  # no BEiTMaskGenerator: no block mask
    ]))
model = dict(
    type='ROPIM',
    data_preprocessor=dict(
        type='SketchDataPreprocessor',
        patch_size=16,
        rho=1 / 7,  # K' = 28 of K = 196 tokens, the authors' ratio
        mean=_base_.data_preprocessor.mean,
        std=_base_.data_preprocessor.std,
        to_rgb=True),
    backbone=dict(type='ROPIMBEiTViT'),
    neck=dict(  # the stock neck is None
        _delete_=True,
        type='SimMIMLinearDecoder',
        in_channels=768,
        encoder_stride=16),
    head=dict(
        _delete_=True,
        type='ROPIMHead',
        patch_size=16,
        loss=dict(type='PixelReconstructionLoss', criterion='L1'),
        norm_pix=False),
    target_generator=None)
