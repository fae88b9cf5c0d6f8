import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope
from mmpretrain.registry import MODELS, TRANSFORMS

import mmropim  # noqa: F401
from mmropim.utils.config_checks import check_custom_keys
from helpers import (REPO_ROOT, ffn_branches_dropping_twice,
                     fp32_optim_wrapper_cfg, weight_decay_violations)

CONFIGS = sorted(
    p for method in ('ropim', 'prmim') for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', method, '**', '*.py'), recursive=True)
    if '_base_' not in p)
PRETRAIN_TYPES = {'ROPIM', 'PRMIM', 'PRMIMSimMIM'}


def config_id(path):
    return osp.relpath(path, osp.join(REPO_ROOT, 'configs'))


def test_there_are_pretrain_finetune_and_tiny_configs():
    names = [config_id(p) for p in CONFIGS]
    for expected in [
            'ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
            'ropim/ropim_beit-base-p16_8xb256-amp-coslr-800e_in1k.py',
            'ropim/ropim_beit-small-p16_8xb256-amp-coslr-300e_in1k.py',
            'ropim/ropim_beit-tiny-p16_8xb256-amp-coslr-800e_in1k.py',
            'ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py',
            'ropim/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py',
            'prmim/prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py',
            'prmim/prmim_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
            'prmim/prmim_vit-base-p16_8xb512-amp-coslr-800e_in1k.py',
            'prmim/prmim_vit-large-p16_8xb512-amp-coslr-100e_in1k.py',
            'prmim/prmim_vit-large-p16_8xb512-amp-coslr-800e_in1k.py',
            'prmim/prmim-simmim_vit-base-p16_8xb256-amp-coslr-100e_in1k.py',
            'prmim/prmim-simmim_vit-base-p16_8xb256-amp-coslr-800e_in1k.py',
            'prmim/prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py',
            'prmim/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py',
            'prmim/benchmarks/vit-large-p16_8xb128-coslr-50e_in1k.py',
    ]:
        assert expected in names


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert 'mmropim' in cfg.custom_imports.imports
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        init_default_scope('mmpretrain')
        model = MODELS.build(cfg.model)
        # every custom key is in a parameter's name, or a stock one
        check_custom_keys(model, cfg.optim_wrapper)
        wrapper = build_optim_wrapper(
            model, fp32_optim_wrapper_cfg(cfg.optim_wrapper))  # no CUDA
        pipeline = [
            TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline
        ]
    # SimMIM's ViT decays its mask token (VisionTransformerForSimMIM does
    # not list it in no_weight_decay, unlike SimMIM's Swin)
    simmim_vit = cfg.model.backbone.get('type') == 'PRMIMSimMIMBEiTViT'
    # LGP's contrastive stage decays its class token (its param groups are
    # called with an empty no_weight_decay_list)
    decayed = {'LGPMoCoV3': ('cls_token', )}.get(
        cfg.model.type, ('mask_token', ) if simmim_vit else ())
    assert weight_decay_violations(model, wrapper.optimizer,
                                   decayed=decayed) == []
    assert ffn_branches_dropping_twice(model) == []
    if cfg.model.type == 'ROPIM':
        assert '/stock/' in path or \
            cfg.optim_wrapper.optimizer.betas == (0.9, 0.95)
        # a stock mix keeps MMPretrain's optimizer
        # (tests/test_configs_stock_mixing.py)
        assert '/stock/' in path or cfg.optim_wrapper.clip_grad.max_norm == 5.0
    elif cfg.model.type in PRETRAIN_TYPES:
        names = [type(t).__name__ for t in pipeline]
        assert names[-2:] == ['FurthestSampling', 'PackInputs']
        assert 'throw_mask' in pipeline[-1].algorithm_keys
        ablation_without_aggregator = any(
            k in path for k in ('noagg', 'partial-', 'mae-g000'))
        aggregator = getattr(model.head, 'aggregator',
                             getattr(model.neck, 'aggregator', None))
        assert (aggregator is None) == ablation_without_aggregator
    elif cfg.model.type == 'LGPMoCoV3':  # its groups: tests/test_engine/
        # test_layer_group_lr_constructor.py
        assert cfg.optim_wrapper.constructor == \
            'LayerGroupLrOptimWrapperConstructor'
    elif '-linear-' in config_id(path):  # the frozen backbone, LARS:
        # tests/test_configs_linear_probe.py
        assert cfg.optim_wrapper.optimizer.type == 'LARS'
    else:
        assert cfg.optim_wrapper.constructor == \
            'LearningRateDecayOptimWrapperConstructor'
        assert 0.6 <= cfg.optim_wrapper.paramwise_cfg.layer_decay_rate < 1
        if config_id(path).startswith('ropim/benchmarks/') and \
                'demo' not in path:  # the ROPIM authors' fine-tuning
            assert cfg.optim_wrapper.clip_grad.max_norm == 5.0


def epoch_learning_rates(cfg):
    """The learning rate of each epoch under the config's schedulers (as
    MMEngine steps them once per epoch)."""
    from mmengine.registry import PARAM_SCHEDULERS
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(
            dict({k: v
                  for k, v in s.items() if k != 'convert_to_iter_based'},
                 optimizer=optimizer)) for s in cfg.param_scheduler
    ]
    rates = []
    for _ in range(cfg.train_cfg.max_epochs):
        rates.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return rates


@pytest.mark.parametrize('epochs,step_epoch', [(800, 700), (100, 88)])
def test_simmim_vit_schedule_steps_where_simmim_does(epochs, step_epoch):
    """SimMIM's ViT-B: warmup over 10 epochs from 5e-7 per 512 to 1e-4 per
    512, x0.1 at epoch 700 of 800 (MMEngine counts milestones from the
    scheduler's ``begin``: a milestone of 700 would step at 710)."""
    cfg = Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'prmim', 'prmim-simmim_vit-base-p16_8xb256-'
        f'amp-coslr-{epochs}e_in1k.py'))
    rates = epoch_learning_rates(cfg)
    peak = 1e-4 * 2048 / 512
    assert rates[0] == pytest.approx(5e-7 * 2048 / 512)
    assert rates[10] == rates[step_epoch - 1] == pytest.approx(peak)
    assert rates[step_epoch] == rates[-1] == pytest.approx(peak / 10)
    assert len(rates) == epochs


def test_vit_base_pretraining_model_runs_forward_backward_on_cpu():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'ropim',
                 'ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    model.init_weights()
    images = torch.randint(0, 256, (2, 3, 224, 224), dtype=torch.uint8)
    data = model.data_preprocessor(
        dict(inputs=images, data_samples=None), training=True)
    assert model.data_preprocessor.draw_sketch(
        data['inputs']).sketch_size == 28
    loss = model(**data, mode='loss')['loss']
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    assert model.backbone.rel_pos_bias.relative_position_bias_table.grad \
        .abs().sum() > 0


# The ROPIM authors' schedules (csiro-robotics/ROPIM configs/vit_*/*.yaml,
# config.py defaults): base lr, WARMUP_LR and MIN_LR per 512 images, which
# main_ropim.py / main_finetune.py scale by the total batch / 512.
AUTHORS_SCHEDULES = {
    'ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py':
    (1.5e-4, 5e-7, 5e-6, 5),
    'ropim/ropim_beit-small-p16_8xb256-amp-coslr-300e_in1k.py':
    (1.5e-4, 5e-7, 5e-6, 5),
    'ropim/ropim_beit-tiny-p16_8xb256-amp-coslr-800e_in1k.py':
    (1e-3, 5e-7, 5e-6, 5),
    'ropim/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py':
    (5e-3, 2.5e-7, 5e-6, 5),
    'ropim/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py':
    (5e-3, 2.5e-7, 5e-6, 5),
    'ropim/benchmarks/beit-small-p16_8xb128-coslr-200e_in1k.py':
    (5e-3, 2.5e-7, 2.5e-7, 5),
    'ropim/benchmarks/beit-tiny-p16_8xb128-coslr-100e_in1k.py':
    (1e-2, 2.5e-7, 2.5e-7, 5),
}


@pytest.mark.parametrize('name', sorted(AUTHORS_SCHEDULES))
def test_ropim_schedule_starts_peaks_and_ends_where_the_authors_do(name):
    """Stepping the schedule: the first epoch runs at the warmup lr and the
    cosine starts from the peak right after the authors' warmup epochs,
    towards their final lr (all per 512 images, times the total batch /
    512)."""
    base_lr, warmup_lr, min_lr, warmup_epochs = AUTHORS_SCHEDULES[name]
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
    scale = cfg.train_dataloader.batch_size * 8 / 512
    rates = epoch_learning_rates(cfg)
    assert rates[0] == pytest.approx(warmup_lr * scale)
    assert max(rates) == rates[warmup_epochs] == pytest.approx(
        base_lr * scale)
    assert rates[warmup_epochs + 1] < rates[warmup_epochs]
    cosine = cfg.param_scheduler[1]
    assert cosine.begin == warmup_epochs
    assert cosine.end == cosine.begin + cosine.T_max == \
        cfg.train_cfg.max_epochs
    assert cosine.eta_min == pytest.approx(min_lr * scale)


ROPIM_IN1K_PRETRAINING = [
    p for p in CONFIGS if config_id(p).startswith('ropim/ropim_')
    and 'demo' not in p
]


@pytest.mark.parametrize('path', ROPIM_IN1K_PRETRAINING, ids=config_id)
def test_ropim_pretraining_crop_resizes_as_torchvision_does(path):
    """The authors' torchvision RandomResizedCrop (data/data_ropim.py) is
    given no interpolation: bilinear, PIL's on PIL images. The config's
    crop, held to the whole image, must resize exactly as PIL's bilinear."""
    import numpy as np
    from PIL import Image
    cfg = Config.fromfile(path)
    crop = next(t for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'RandomResizedCrop')
    whole_image = dict(crop, crop_ratio_range=(1.0, 1.0),
                       aspect_ratio_range=(1.0, 1.0))
    init_default_scope('mmpretrain')
    transform = TRANSFORMS.build(whole_image)
    image = np.random.default_rng(0).integers(
        0, 256, (300, 300, 3), dtype=np.uint8)
    out = transform(dict(img=image.copy()))['img']
    expected = np.asarray(
        Image.fromarray(image).resize((224, 224), Image.BILINEAR))
    np.testing.assert_array_equal(out, expected)
