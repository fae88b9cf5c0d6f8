"""Held-out losses against no-learning baselines
(mmropim.evaluation.reconstruction_losses) on the tiny BEiT-style ROPIM and
SimMIM-style models."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmropim.evaluation import (corrupted_loss, held_out_losses, random_masks,
                                ropim_losses, simmim_losses)
from mmropim.models.utils import CountSketch, patchify
from helpers import REPO_ROOT, ROPIM_TINY_CFG

SIMMIM_BEIT_TINY_CFG = osp.join(
    REPO_ROOT, 'configs', 'ropim', 'ablations',
    'simmim-noagg_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')


def build(config, **model_options):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(config).model
    cfg.update(model_options)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def unpatchify(patches, patch):
    """(B, K, p * p * 3) patches in ``patchify``'s layout (row-major tokens,
    then rows, columns and channels of a patch) back to (B, 3, H, W)."""
    batch, tokens, _ = patches.shape
    grid = int(tokens**0.5)
    x = patches.reshape(batch, grid, grid, patch, patch, 3)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(batch, 3, grid * patch,
                                               grid * patch)


def generator():
    return torch.Generator().manual_seed(0)


def test_ropim_baseline_is_the_loss_of_predicting_the_projected_input():
    """Predicting the projected input scores exactly the baseline (the
    complement of Pi x is 0); the exact image scores 0."""
    model = build(ROPIM_TINY_CFG)
    images = torch.randn(4, 3, 64, 64)
    values = ropim_losses(model, images, generator())
    assert values['baseline'] > 0.5  # L1 of (I - Pi) x, x ~ N(0, 1)
    sketch = CountSketch.draw(4, 64, model.data_preprocessor.rho,
                              generator=generator())
    projected = sketch.project(patchify(images, 8))
    expected = sketch.complement(patchify(images, 8)).abs().mean()
    assert values['baseline'] == pytest.approx(expected.item(), rel=1e-5)
    # rho 1/7: the sketch keeps a small part of the energy
    assert 0.75 < values['removed_energy'] < 0.95
    # a reconstruction inside the subspace of the input scores the baseline
    model.reconstruct = lambda x, s: unpatchify(projected, 8)
    values = ropim_losses(model, images, generator())
    assert values['loss'] == pytest.approx(values['baseline'], rel=1e-5)
    assert values['input_subspace_loss'] == pytest.approx(0.0, abs=1e-6)
    model.reconstruct = lambda x, s: x
    values = ropim_losses(model, images, generator())
    assert values['loss'] == pytest.approx(0.0, abs=1e-6)


def test_swapped_subspaces_trade_the_projections():
    model = build(ROPIM_TINY_CFG, swap_subspaces=True)
    images = torch.randn(4, 3, 64, 64)
    values = ropim_losses(model, images, generator())
    sketch = CountSketch.draw(4, 64, model.data_preprocessor.rho,
                              generator=generator())
    expected = sketch.project(patchify(images, 8)).abs().mean()
    assert values['baseline'] == pytest.approx(expected.item(), rel=1e-5)
    assert values['removed_energy'] < 0.25


def test_simmim_baseline_is_the_mean_visible_colour():
    simmim = build(SIMMIM_BEIT_TINY_CFG)
    # one colour per image: the mean visible colour is exact
    flat = torch.randn(4, 3, 1, 1).expand(4, 3, 64, 64).contiguous()
    values = simmim_losses(simmim, flat, generator(), 0.6)
    assert values['baseline'] == pytest.approx(0.0, abs=1e-6)
    images = torch.randn(4, 3, 64, 64)
    values = simmim_losses(simmim, images, generator(), 0.6)
    assert values['baseline'] > 0.5 and values['loss'] > 0.0
    assert values['removed_energy'] == pytest.approx(0.6, abs=0.05)


def test_masks_have_exactly_the_mask_ratio():
    masks = random_masks(5, (8, 8), 0.6, generator())
    assert masks.shape == (5, 8, 8)
    assert masks.flatten(1).sum(1).tolist() == [38.0] * 5
    assert not torch.equal(masks[0], masks[1])


def test_held_out_losses_average_over_batches_with_the_same_draws():
    model = build(ROPIM_TINY_CFG)
    images = torch.randn(6, 3, 64, 64)
    whole = held_out_losses(model, images, seed=3, batch_size=6)
    assert not model.training
    assert whole['ratio'] == pytest.approx(whole['loss'] / whole['baseline'])
    # batches of 4 and 2: the image-weighted mean of the batches' values
    source = torch.Generator().manual_seed(3)
    parts = [ropim_losses(model, batch, source) for batch in images.split(4)]
    split = held_out_losses(model, images, seed=3, batch_size=4)
    for key in ('loss', 'baseline', 'removed_energy'):
        assert split[key] == pytest.approx(
            (4 * parts[0][key] + 2 * parts[1][key]) / 6, rel=1e-6)
    # the same seed draws the same sketches: the same figures
    assert held_out_losses(model, images, seed=3, batch_size=4) == split
    simmim = build(SIMMIM_BEIT_TINY_CFG)
    masked = held_out_losses(simmim, images, seed=3, mask_ratio=0.6)
    assert masked['loss'] == pytest.approx(
        simmim_losses(simmim, images, torch.Generator().manual_seed(3),
                      0.6)['loss'], rel=1e-6)


def test_corrupted_loss_is_the_training_loss_with_gradients():
    images = torch.randn(2, 3, 64, 64)
    for model, ratio, losses in (
            (build(ROPIM_TINY_CFG), None, ropim_losses),
            (build(SIMMIM_BEIT_TINY_CFG), 0.6,
             lambda m, x, g: simmim_losses(m, x, g, 0.6))):
        model.eval()  # no stochastic depth: the same loss twice
        loss = corrupted_loss(model, images, generator(), ratio)
        assert loss.requires_grad
        assert loss.item() == pytest.approx(
            losses(model, images, generator())['loss'], rel=1e-5)
        loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in model.backbone.parameters())
