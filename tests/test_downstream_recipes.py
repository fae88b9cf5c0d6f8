"""Recipe values of the transfer configs that the references fix: the
detection test-time padding colour and the segmentation weight-decay groups
(docs/fidelity.md)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmropim.downstream  # noqa: F401  (registers into MMSeg, MMDet)
from helpers import REPO_ROOT, fp32_optim_wrapper_cfg

COCO_DIR = osp.join(REPO_ROOT, 'configs', 'downstream', 'coco')
ADE_DIR = osp.join(REPO_ROOT, 'configs', 'downstream', 'ade20k')
FULL_SIZE_DETECTORS = sorted(
    p for p in glob.glob(osp.join(COCO_DIR, '*.py')) if 'demo' not in p)


@pytest.mark.parametrize('path', FULL_SIZE_DETECTORS,
                         ids=lambda p: osp.relpath(p, COCO_DIR))
def test_detection_test_padding_is_zero_after_normalization(path):
    """detectron2's ViTDet pads test images after normalizing, with zeros
    (the mean colour); the config pads the uint8 BGR image before its data
    preprocessor normalizes it, so the padding must come out within half a
    grey level of zero."""
    from mmdet.registry import MODELS, TRANSFORMS
    from mmdet.structures import DetDataSample
    cfg = Config.fromfile(path)
    init_default_scope('mmdet')
    pad_cfg = next(t for t in cfg.test_pipeline if t['type'] == 'Pad')
    pad = TRANSFORMS.build(pad_cfg)
    height, width = 700, 1024  # a landscape image after the resize
    image = torch.randint(0, 256, (height, width, 3),
                          dtype=torch.uint8).numpy()
    padded = pad(dict(img=image, img_shape=(height, width)))['img']
    assert padded.shape[:2] == tuple(pad_cfg['size'])
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    inputs = preprocessor(
        dict(inputs=[torch.from_numpy(padded).permute(2, 0, 1)],
             data_samples=[DetDataSample()]),
        training=False)['inputs']
    padding = inputs[0, :, height:, :]
    half_grey_level = 0.5 / min(cfg.model.data_preprocessor.std)
    assert padding.abs().max().item() <= half_grey_level


SEGMENTORS = [
    'upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-128px.py',
    'upernet_ropim-beit-base-p16_8xb2-amp-160k_ade20k-512x512.py',
]


@pytest.mark.parametrize('name', SEGMENTORS)
def test_segmentation_decay_groups_are_mmseg_constructors(name):
    """MMSeg's LayerDecayOptimizerConstructor (BEiT's, ported) gives every
    parameter of a BEiT segmentor the weight decay our config gives it: 1-D
    parameters exempt, the class token and relative tables decayed."""
    from mmengine.optim import build_optim_wrapper
    from mmseg.engine.optimizers import LayerDecayOptimizerConstructor
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(ADE_DIR, name))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    ours = build_optim_wrapper(model,
                               fp32_optim_wrapper_cfg(cfg.optim_wrapper))
    reference = LayerDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=dict(cfg.optim_wrapper.optimizer)),
        dict(num_layers=len(model.backbone.layers),
             layer_decay_rate=cfg.optim_wrapper.paramwise_cfg
             .layer_decay_rate))(model)

    def decay_of(optimizer):
        return {
            id(param): group['weight_decay']
            for group in optimizer.param_groups for param in group['params']
        }

    ours_decay, reference_decay = (decay_of(ours.optimizer),
                                   decay_of(reference.optimizer))
    names = {id(p): n for n, p in model.named_parameters()}
    differing = sorted(names[i] for i in names
                       if ours_decay[i] != reference_decay[i])
    assert differing == []
    assert reference_decay[id(model.backbone.cls_token)] > 0
