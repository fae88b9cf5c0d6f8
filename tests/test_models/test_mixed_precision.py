"""Every pre-training algorithm under fp16 / bf16 autocast at the per-GPU
batch and token count of its shipped full-size config: the loss matches fp32
within 1% and every gradient is finite and non-zero. The models are narrow
(widths / 16) and shallow (2 encoder and decoder layers): what overflows in
half precision is a count, sum or denominator over the batch and its tokens,
which depth does not change."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmropim  # noqa: F401
from mmropim.datasets.demo import smooth_images
from mmropim.utils.model_narrowing import narrow_model
from helpers import REPO_ROOT

# multi-process runs, full-size configs, benchmark scripts: `-m "not slow"`
pytestmark = pytest.mark.slow

ALGORITHMS = {
    'ropim-beit': 'ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
    'ropim-vit': 'ropim/ropim_vit-base-p16_8xb256-amp-coslr-300e_in1k.py',
    'mae+prmim': 'prmim/prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py',
    'partial': 'prmim/ablations/'
    'partial-g050_vit-base-p16_8xb512-amp-coslr-100e_in1k.py',
    'simmim+prmim':
    'prmim/prmim-simmim_vit-base-p16_8xb256-amp-coslr-100e_in1k.py',
    'mff+prmim':
    'prmim/mff/prmim-mff_vit-base-p16_8xb512-amp-coslr-800e_in1k.py',
}


def training_batch(cfg, model):
    """The model's preprocessed input at the config's per-GPU batch and input
    size; masks from the config's own ``FurthestSampling`` step."""
    batch_size = cfg.train_dataloader.batch_size
    pipeline = cfg.train_dataloader.dataset.pipeline
    size = next(t.scale for t in pipeline if t.type == 'RandomResizedCrop') \
        if any(t.type == 'RandomResizedCrop' for t in pipeline) else 224
    samples = [DataSample() for _ in range(batch_size)]
    sampling = [t for t in pipeline if t.type == 'FurthestSampling']
    if sampling:
        transform = TRANSFORMS.build(sampling[0])
        np.random.seed(0)
        for sample in samples:
            out = transform(dict(img=np.zeros((size, size, 3), np.uint8)))
            sample.set_field(torch.from_numpy(out['mask']), 'mask')
            sample.set_field(out['throw_mask'], 'throw_mask')
    images = smooth_images(batch_size, size).permute(0, 3, 1, 2)
    torch.manual_seed(0)
    return model.data_preprocessor(
        dict(inputs=images, data_samples=samples), training=True)


def loss_and_gradients(model, data, dtype=None):
    """Total loss and parameter gradients; under autocast with ``dtype``
    the loss is scaled as ``GradScaler`` does (from 2**16, halved while the
    gradients overflow)."""
    scale = 2.0**16 if dtype == torch.float16 else 1.0
    while True:
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # the same drop-path draws in every run
        with torch.autocast('cpu', dtype=dtype or torch.float32,
                            enabled=dtype is not None):
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        (loss * scale).backward()
        grads = {
            n: p.grad.detach().float() / scale
            for n, p in model.named_parameters() if p.grad is not None
        }
        if all(torch.isfinite(g).all() for g in grads.values()) \
                or scale <= 1:
            return loss.detach().float(), grads
        scale /= 2


@pytest.fixture(scope='module', params=sorted(ALGORITHMS))
def fp32_reference(request):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs',
                                   ALGORITHMS[request.param]))
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(narrow_model(cfg.model, 16, max_depth=2))
    model.init_weights()
    model.train()
    data = training_batch(cfg, model)
    loss, grads = loss_and_gradients(model, data)
    return dict(cfg=cfg, model=model, data=data, loss=loss, grads=grads)


def test_batch_and_tokens_are_the_shipped_ones(fp32_reference):
    cfg, data = fp32_reference['cfg'], fp32_reference['data']
    assert data['inputs'].shape == (cfg.train_dataloader.batch_size, 3, 224,
                                    224)
    assert data['inputs'].shape[0] in (256, 512)
    trainable = [
        n for n, p in fp32_reference['model'].named_parameters()
        if p.requires_grad
    ]
    assert sorted(fp32_reference['grads']) == sorted(trainable)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16],
                         ids=['fp16', 'bf16'])
def test_loss_and_gradients_match_fp32_under_autocast(fp32_reference, dtype):
    model, data = fp32_reference['model'], fp32_reference['data']
    ref_loss, ref_grads = fp32_reference['loss'], fp32_reference['grads']
    loss, grads = loss_and_gradients(model, data, dtype)
    assert torch.isfinite(ref_loss) and ref_loss > 0
    assert abs(loss - ref_loss) <= 0.01 * ref_loss, (loss, ref_loss)
    assert sorted(grads) == sorted(ref_grads)
    for name, grad in grads.items():
        assert torch.isfinite(grad).all(), name
        assert grad.abs().sum() > 0, name
    flat = torch.cat([grads[n].flatten() for n in sorted(grads)])
    ref_flat = torch.cat([ref_grads[n].flatten() for n in sorted(grads)])
    assert F.cosine_similarity(flat, ref_flat, dim=0) > 0.95


def test_pipeline_mask_stays_float32_under_autocast():
    """A stock ``MAEPretrainHead`` behind ``PRMIMViT`` divides by the sum of
    the mask the backbone returns: it must not be half precision."""
    from mmropim.models.utils import split_tokens
    backbone = MODELS.build(
        dict(type='PRMIMViT', arch=dict(embed_dims=32, num_layers=1,
                                        num_heads=2, feedforward_channels=64),
             img_size=224, patch_size=16))
    mask = torch.zeros(2, 196)
    mask[:, :147] = 1
    throw = torch.zeros(2, 196)
    throw[:, :98] = 1
    with torch.autocast('cpu', dtype=torch.float16):
        _, out_mask, _ = backbone(torch.randn(2, 3, 224, 224),
                                  token_split=split_tokens(mask, throw))
    assert out_mask.dtype == torch.float32
