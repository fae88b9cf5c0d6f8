"""Every setting of the non-demo configs trains 2 iterations through
MMEngine's Runner at its per-GPU batch and real input size (narrow widths,
demo images through the config's own pipeline, AMP as CPU fp16 autocast +
gradient scaling): the loss is finite and non-zero and every trainable
parameter gets a gradient. Configs that differ only in schedule or runtime
(same model, pipeline, batch and optimizer wrapper: e.g. 300 vs 800 epochs)
share one run; every config is built in tests/test_configs.py."""
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


def iterations(path):
    """2 (the step after the first update shows an fp16 overflow or a dead
    loss); 1 for the 100-epoch ablations, which differ from the checked
    PR-MIM config only in FurthestSampling's throw ratio / mode and the
    aggregator (the suite's time budget)."""
    return 1 if config_id(path).startswith('prmim/ablations/') else 2


def check(path, demo_sets, tmp_path, batch):
    cfg = check_configs.Config.fromfile(path)
    result = check_configs.check_config(
        path, str(tmp_path), demo_sets, iters=iterations(path),
        batch_size=batch, **narrowing(cfg))
    assert check_configs.problems(result) == []
    assert len(result['losses']) == iterations(path)
    assert result['input_shape'][0] == batch
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        assert result['optim_wrapper'] == 'CPUAmpOptimWrapper'
        assert result['amp_dtype'] == str(
            getattr(torch, cfg.optim_wrapper.get('dtype') or 'float16'))
    return cfg, result


SETTINGS = check_configs.group_by_setting(CONFIGS)
# Stock mixes whose model parts, per-GPU batch and optimizer wrapper are
# those of a shipped config that runs here: only their stock crop and
# schedule differ, and they train through tools/train.py in
# tests/test_configs_stock_mixing.py (the suite's time budget)
COVERED_BY = {
    'prmim/stock/prmim-stock-mff_vit-base-p16_8xb512-amp-coslr-800e_in1k.py':
    'prmim/mff/prmim-mff_vit-base-p16_8xb512-amp-coslr-800e_in1k.py',
    'ropim/stock/ropim-stock-beit_beit-base-p16_8xb256-amp-coslr-300e_'
    'in1k.py': 'ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
}
RUN_SETTINGS = [g for g in SETTINGS if config_id(g[0]) not in COVERED_BY]


def test_schedule_variants_share_a_setting():
    assert sorted(p for group in SETTINGS for p in group) == sorted(CONFIGS)
    assert len(SETTINGS) < len(CONFIGS)  # 300e / 800e etc. share a run


@pytest.mark.parametrize('mix, shipped', COVERED_BY.items())
def test_covered_stock_mix_matches_the_shipped_config(mix, shipped):
    def setting(relpath):
        cfg = check_configs.Config.fromfile(
            osp.join(check_configs.CONFIG_ROOT, relpath))
        model = cfg.model
        preprocessor = model.get('data_preprocessor') or cfg.get(
            'data_preprocessor')
        return (model.type, preprocessor.type,
                model.backbone.type, model.backbone.arch,
                model.backbone.get('patch_size'), model.neck.type,
                model.head.type, cfg.train_dataloader.batch_size,
                cfg.optim_wrapper.type, cfg.optim_wrapper.get('dtype'))

    assert config_id(osp.join(check_configs.CONFIG_ROOT, mix)) in [
        config_id(g[0]) for g in SETTINGS
    ]
    assert setting(mix) == setting(shipped)


@pytest.mark.parametrize('group', RUN_SETTINGS,
                         ids=lambda group: config_id(group[0]))
def test_config_trains_at_its_batch_and_input_size(group, demo_sets,
                                                   tmp_path):
    path = group[0]
    cfg = check_configs.Config.fromfile(path)
    batch = REDUCED_BATCH.get(config_id(path), cfg.train_dataloader.batch_size)
    check(path, demo_sets, tmp_path, batch)


def test_audit_turns_off_stochastic_depth_and_is_seeded(demo_sets, tmp_path):
    """Stochastic depth drops a whole residual branch per sample: at a
    per-GPU batch of 2 a branch gets an all-zero gradient in both audited
    iterations now and then, and the audit would report a parameter as
    unused at random (CI did, once, for a BEiT FFN). The audit sets every
    ``drop_path_rate`` to 0 and seeds the run."""
    path = osp.join(check_configs.CONFIG_ROOT, 'downstream', 'ade20k',
                    'upernet_ropim-beit-base-p16_8xb2-amp-160k_ade20k-'
                    '512x512.py')
    assert check_configs.Config.fromfile(path).model.backbone.drop_path_rate
    cfg = check_configs.prepare_config(path, str(tmp_path), demo_sets,
                                       width_divisor=64)
    rates = [node['drop_path_rate']
             for node in check_configs.iter_dicts(cfg.model)
             if 'drop_path_rate' in node]
    assert rates and all(rate == 0 for rate in rates)
    assert cfg.randomness['seed'] == 0


def test_audit_counts_an_overflowed_gradient_as_reached():
    """Under loss scaling an fp16 gradient can overflow to inf and inf * 0 to
    NaN; the scaler skips that step, but the parameter is in the graph."""
    hook = check_configs.GradientAuditHook()
    hook.gradients['w'] = []
    record = hook._recorder('w')
    record(torch.tensor([float('nan'), 0.]))
    assert hook.without_gradient() == []
    hook.gradients['v'] = []
    hook._recorder('v')(torch.zeros(2))
    assert hook.without_gradient() == ['v']
