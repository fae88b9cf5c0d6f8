"""Every non-demo config trains 2 iterations through MMEngine's Runner at its
per-GPU batch and real input size (narrow widths, demo images through the
config's own pipeline, AMP as CPU fp16 autocast + gradient scaling): the loss
is finite and non-zero and every trainable parameter gets a gradient."""
import os.path as osp

import pytest
import torch

from helpers import check_configs

CONFIGS = check_configs.full_size_configs()
# Per-GPU batches reduced because CPU memory cannot hold the shipped one:
# none. Input sizes and token counts are never reduced.
REDUCED_BATCH = {}
# Half-precision matrix products run ~5x slower than fp32 on a CPU without
# native fp16 / bf16 kernels, and a 512-image batch of 224 px images is
# pixel-bound: models are narrowed to widths / 64 and ImageNet models cut to
# 2 encoder / decoder layers; segmentation and detection models keep their
# depth (their out_indices and window / global layers need it).
IMAGENET_NARROWING = dict(width_divisor=64, max_depth=2)
DENSE_NARROWING = dict(width_divisor=64, max_depth=None)


def config_id(path):
    return osp.relpath(path, check_configs.CONFIG_ROOT)


def narrowing(cfg):
    return IMAGENET_NARROWING if cfg.default_scope == 'mmpretrain' \
        else DENSE_NARROWING


def test_every_kind_of_config_is_covered():
    ids = [config_id(p) for p in CONFIGS]
    assert not any(check_configs.is_demo_config(p) for p in CONFIGS)
    for folder in ('ropim/', 'ropim/benchmarks/', 'prmim/',
                   'prmim/ablations/', 'prmim/mff/', 'prmim/benchmarks/',
                   'downstream/ade20k/', 'downstream/coco/'):
        assert any(i.startswith(folder) for i in ids), folder
    assert len(CONFIGS) >= 35


def check(path, demo_sets, tmp_path, batch):
    cfg = check_configs.Config.fromfile(path)
    result = check_configs.check_config(
        path, str(tmp_path), demo_sets, iters=2, batch_size=batch,
        **narrowing(cfg))
    assert check_configs.problems(result) == []
    assert len(result['losses']) == 2
    assert result['input_shape'][0] == batch
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        assert result['optim_wrapper'] == 'CPUAmpOptimWrapper'
        assert result['amp_dtype'] == str(
            getattr(torch, cfg.optim_wrapper.get('dtype') or 'float16'))
    return cfg, result


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_trains_at_its_batch_and_input_size(path, demo_sets,
                                                   tmp_path):
    cfg = check_configs.Config.fromfile(path)
    batch = REDUCED_BATCH.get(config_id(path), cfg.train_dataloader.batch_size)
    check(path, demo_sets, tmp_path, batch)
