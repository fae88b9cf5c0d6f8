"""LGP-ROPIM's contrastive stage (LGPMoCoV3 on LGPBEiTViT): a ROPIM
checkpoint grafted into both encoders, loudly; the L1 pull toward the
grafted weights; the hue-safe colour jitter of its pipelines."""
import os.path as osp
from unittest import mock

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.datasets.transforms import HueSafeColorJitter, shift_hue
from mmropim.utils.backbone_checkpoint import MissingWeightsError
from helpers import REPO_ROOT, ROPIM_TINY_CFG, raises_naming

LGP_DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'lgp',
                        'lgp-ropim_beit-mini-p8_1xb32-coslr-10e_demo-64px.py')


@pytest.fixture(scope='module')
def ropim_checkpoint(tmp_path_factory):
    """A ROPIM demo model's weights, as tools/train.py saves them."""
    init_default_scope('mmpretrain')
    torch.manual_seed(1)
    ropim = MODELS.build(Config.fromfile(ROPIM_TINY_CFG).model)
    ropim.init_weights()
    path = str(tmp_path_factory.mktemp('ropim') / 'epoch_1.pth')
    torch.save(dict(state_dict=ropim.state_dict()), path)
    return path


def build_lgp(checkpoint=None, **model):
    cfg = Config.fromfile(LGP_DEMO_CFG)
    cfg.model.update(model)
    if checkpoint is None:
        cfg.model.backbone.init_cfg = None
    else:
        cfg.model.backbone.init_cfg.checkpoint = checkpoint
    init_default_scope('mmpretrain')
    return MODELS.build(cfg.model)


def grafted(checkpoint, **model):
    torch.manual_seed(0)
    lgp = build_lgp(checkpoint, **model)
    lgp.init_weights()
    return lgp


def two_views(batch=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, 64, 64, generator=generator)
            for _ in range(2)]


def test_both_encoders_start_from_the_ropim_weights(ropim_checkpoint):
    source = torch.load(ropim_checkpoint)['state_dict']
    lgp = grafted(ropim_checkpoint)
    backbone, momentum_backbone = lgp.backbone, lgp.momentum_encoder.module[0]
    checked = 0
    for encoder in (backbone, momentum_backbone):
        for key, value in encoder.state_dict().items():
            torch.testing.assert_close(value, source['backbone.' + key],
                                       rtol=0, atol=0)
            checked += 1
    assert checked == 2 * len(backbone.state_dict()) > 60
    # and the momentum projector is the base one
    for key, value in lgp.neck.state_dict().items():
        torch.testing.assert_close(
            lgp.momentum_encoder.module[1].state_dict()[key], value)


def test_the_fresh_parts_are_logged_by_name(ropim_checkpoint):
    with mock.patch('mmropim.models.selfsup.lgp_mocov3.print_log') as log:
        grafted(ropim_checkpoint)
    message = log.call_args[0][0]
    assert ropim_checkpoint in message
    for name in ('neck.fc0.weight', 'neck.fc2.weight',
                 'head.predictor.fc0.weight', 'head.predictor.fc1.weight'):
        assert name in message
    assert 'backbone.' not in message


def test_a_checkpoint_lacking_backbone_weights_raises(
        ropim_checkpoint, tmp_path):
    state = torch.load(ropim_checkpoint)['state_dict']
    del state['backbone.layers.2.attn.qkv.weight']
    cut = str(tmp_path / 'cut.pth')
    torch.save(dict(state_dict=state), cut)
    with raises_naming(MissingWeightsError, 'layers.2.attn.qkv.weight', cut):
        grafted(cut)


def test_no_checkpoint_given_raises():
    with raises_naming(ValueError, 'init_cfg.checkpoint'):
        grafted('')


def test_another_backbone_is_refused():
    cfg = Config.fromfile(LGP_DEMO_CFG)
    cfg.model.backbone = dict(type='ROPIMBEiTViT', arch=cfg.mini_arch,
                              img_size=64, patch_size=8)
    init_default_scope('mmpretrain')
    with raises_naming(TypeError, 'ROPIMBEiTViT', 'LGPBEiTViT'):
        MODELS.build(cfg.model)


def test_contrastive_loss_runs_on_two_views(ropim_checkpoint):
    lgp = grafted(ropim_checkpoint)
    losses = lgp.loss(two_views(), [])
    assert set(losses) == {'loss'}
    assert torch.isfinite(losses['loss']) and losses['loss'] > 0


# the L1 pull toward the grafted weights (LGP's --l1_dist_w)


def l1_model(checkpoint, layers=1, weight=1e-3):
    return grafted(checkpoint, l1_dist_weight=weight, l1_dist_layers=layers)


def test_l1_pull_is_zero_at_the_graft(ropim_checkpoint):
    lgp = l1_model(ropim_checkpoint)
    assert lgp.l1_distance().item() == 0.0
    losses = lgp.loss(two_views(), [])
    assert losses['loss_l1_dist'].item() == 0.0


def test_l1_pull_grows_when_covered_weights_move(ropim_checkpoint):
    lgp = l1_model(ropim_checkpoint, layers=1)
    with torch.no_grad():
        lgp.backbone.layers[0].attn.qkv.weight.add_(0.01)
    moved = lgp.backbone.layers[0].attn.qkv.weight.numel() * 0.01
    assert lgp.l1_distance().item() == pytest.approx(moved, rel=1e-3)
    assert lgp.loss(two_views(), [])['loss_l1_dist'].item() == \
        pytest.approx(1e-3 * moved, rel=1e-3)
    # blocks above l1_dist_layers are not pulled
    with torch.no_grad():
        lgp.backbone.layers[1].attn.qkv.weight.add_(0.01)
    assert lgp.l1_distance().item() == pytest.approx(moved, rel=1e-3)


def test_l1_pull_grows_with_training_and_has_a_gradient(ropim_checkpoint):
    lgp = l1_model(ropim_checkpoint, layers=4)
    # the momentum's cosine schedule reads the run length from the hub
    MessageHub.get_current_instance().update_info('max_iters', 10)
    optimizer = torch.optim.SGD(
        [p for p in lgp.parameters() if p.requires_grad], lr=0.1)
    distances = []
    for step in range(2):
        losses = lgp.loss(two_views(seed=step), [])
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
        distances.append(lgp.l1_distance().item())
    assert 0 < distances[0] < distances[1]
    lgp.zero_grad()
    lgp.l1_distance().backward()
    assert lgp.backbone.layers[3].attn.qkv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('model, names', [
    (dict(l1_dist_weight=1e-5), ['l1_dist_layers', 'None']),
    (dict(l1_dist_weight=1e-5, l1_dist_layers=5), ['l1_dist_layers', '4']),
    (dict(l1_dist_weight=-1.), ['l1_dist_weight', '-1.0']),
])
def test_bad_l1_settings_are_refused(ropim_checkpoint, model, names):
    with raises_naming(ValueError, *names):
        build_lgp(ropim_checkpoint, **model)


def test_l1_pull_needs_a_grafted_checkpoint():
    with raises_naming(ValueError, 'l1_dist_weight', 'init_cfg'):
        build_lgp(None, l1_dist_weight=1e-5, l1_dist_layers=2)


# the colour jitter of the MoCo v3 pipelines


def colour_image(seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, (16, 16, 3), dtype=np.uint8)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_shift_hue_matches_mmcv_for_a_positive_hue(backend):
    image = colour_image()
    np.testing.assert_array_equal(
        shift_hue(image, 0.1, backend),
        mmcv.adjust_hue(image, 0.1, backend=backend))


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_shift_hue_turns_back_for_a_negative_hue(backend):
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 2] = 255  # BGR
    shifted = shift_hue(red, -0.1, backend)
    # 25 of 256 steps back from red: a magenta (blue up, no green)
    assert (shifted[..., 2] == 255).all() and (shifted[..., 1] == 0).all()
    assert (shifted[..., 0] > 100).all()


def test_hue_safe_colour_jitter_runs_with_negative_hues():
    jitter = HueSafeColorJitter(brightness=0.4, contrast=0.4, saturation=0.2,
                                hue=0.1)
    np.random.seed(0)
    for _ in range(20):  # about half of them draw a negative hue
        out = jitter(dict(img=colour_image()))['img']
        assert out.shape == (16, 16, 3) and out.dtype == np.uint8


def test_the_logged_loss_is_the_sum_with_the_l1_pull(ropim_checkpoint):
    """MMEngine logs (and FiniteLossHook reads) a summed ``loss`` that a
    term named ``loss`` overwrote: the contrastive term is
    ``loss_contrastive`` beside ``loss_l1_dist``."""
    lgp = l1_model(ropim_checkpoint, layers=1)
    with torch.no_grad():
        lgp.backbone.layers[0].attn.qkv.weight.add_(0.01)
    losses = lgp.loss(two_views(), [])
    assert set(losses) == {'loss_contrastive', 'loss_l1_dist'}
    total, log_vars = lgp.parse_losses(losses)
    assert log_vars['loss'].item() == pytest.approx(
        (losses['loss_contrastive'] + losses['loss_l1_dist']).item())
    assert total.item() == pytest.approx(log_vars['loss'].item())
