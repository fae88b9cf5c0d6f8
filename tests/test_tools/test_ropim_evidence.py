"""tools/benchmarks/ropim_evidence.py and ropim_diagnostic.py: a tiny run end
to end, whose controlled ROPIM-vs-masking rows ran with configs that differ
only by the corruption; the diagnostic's corruption strengths (its losses:
tests/test_evaluation/test_reconstruction_losses.py)."""
import copy
import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from tools.benchmarks.ropim_diagnostic import main as diagnostic_main
from tools.benchmarks.ropim_evidence import parse_args as evidence_args
from helpers import PRMIM_TINY_CFG, ROPIM_TINY_CFG, run_tool

# multi-process runs, full-size configs, benchmark scripts: `-m "not slow"`
pytestmark = pytest.mark.slow

COLUMNS = ('knn_cls', 'linear_cls', 'knn_mean', 'linear_mean',
           'finetune_top1')
SIMMIM_BEIT_CFG = 'simmim-noagg_beit-mini-p8_1xb32-coslr-20e_demo-64px.py'
ROWS = ('ropim-beit-lr-x1', 'simmim-beit-lr-x1')


@pytest.fixture(scope='module')
def evidence_run(small_demo_root, tmp_path_factory):
    """Two controlled rows and their random init, 2 + 2 epochs on the demo
    images, 1 seed, two at a time (the machine's two cores), then the
    diagnostic."""
    out_dir = tmp_path_factory.mktemp('evidence') / 'out'
    log = run_tool('tools/benchmarks/ropim_evidence.py', '--pretrain-epochs',
                   '2', '--finetune-epochs', '2', '--seeds', '1', '--jobs',
                   '2', '--rows', *ROWS, '--data', small_demo_root,
                   '--out-dir', str(out_dir))
    return dict(out_dir=out_dir, log=log)


def pretrain_configs(out_dir):
    """The configs the two controlled pre-trainings ran with (as
    tools/train.py dumped them, --cfg-options merged)."""
    seed = out_dir / 'seed0'
    return (Config.fromfile(seed / f'pretrain_{ROWS[0]}' /
                            osp.basename(ROPIM_TINY_CFG)),
            Config.fromfile(seed / f'pretrain_{ROWS[1]}' / SIMMIM_BEIT_CFG))


def build(cfg):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    return MODELS.build(cfg.model)


def without_corruption(cfg):
    """Everything the controlled rows must share: the config without the
    model's corruption-specific parts (model type, data preprocessor, head,
    the backbone's type, the decoder's config), the masking step of the
    pipeline and the run's own folder."""
    cfg = copy.deepcopy(cfg.to_dict())
    cfg.pop('work_dir')
    model = cfg.pop('model')
    backbone = dict(model['backbone'])
    backbone.pop('type')
    pipeline = cfg['train_dataloader']['dataset'].pop('pipeline')
    kept = [dict(step) for step in pipeline
            if step['type'] not in ('FurthestSampling', 'PackInputs')]
    preprocessor = {k: model['data_preprocessor'][k]
                    for k in ('mean', 'std', 'to_rgb')}
    return dict(cfg, backbone=backbone, pipeline=kept,
                preprocessor=preprocessor)


def differences(first, second, prefix=''):
    """The dotted keys whose values differ between two nested dicts."""
    if not (isinstance(first, dict) and isinstance(second, dict)):
        return [] if first == second else [prefix.rstrip('.')]
    found = []
    for key in sorted(set(first) | set(second), key=str):
        if key not in first or key not in second:
            found.append(f'{prefix}{key}')
        else:
            found += differences(first[key], second[key], f'{prefix}{key}.')
    return found


def test_tiny_evidence_run_end_to_end(evidence_run):
    """The rows and their verdicts, then the diagnostic reads every epoch's
    checkpoint."""
    out_dir = evidence_run['out_dir']
    result = json.loads((out_dir / 'ropim_evidence.json').read_text())
    names = ['random init (BEiT)', 'ROPIM-BEiT (lr x1)',
             'SimMIM-BEiT (lr x1)']
    assert [row['method'] for row in result['rows']] == names
    for row in result['rows']:
        for column in COLUMNS:
            assert 0.0 <= row[column] <= 100.0
    # every pre-trained row against its random init, then the pair
    verdict = ', '.join(rf'{column} (above|below|tie) \([+-]\d+\.\d ± '
                        r'\d+\.\d\)' for column in COLUMNS)
    assert len(result['verdicts']) == 3
    for line, start in zip(result['verdicts'], (
            r'ROPIM-BEiT \(lr x1\) vs random init \(BEiT\): ',
            r'SimMIM-BEiT \(lr x1\) vs random init \(BEiT\): ',
            r'controlled: ROPIM-BEiT \(lr x1\) vs SimMIM-BEiT \(lr x1\): ')):
        assert re.fullmatch(start + verdict, line), line
    assert '\n'.join(result['verdicts']) in evidence_run['log']
    for slug in ROWS:
        names = {osp.basename(p) for p in (
            out_dir / 'seed0' / f'pretrain_{slug}').glob('epoch_*.pth')}
        assert names == {'epoch_1.pth', 'epoch_2.pth'}
    plan = json.loads((out_dir / 'plan.json').read_text())
    assert [row['slug'] for row in plan['rows']] == list(ROWS)
    diagnostic = json.loads((out_dir / 'diagnostic_seed0.json').read_text())
    assert [c['name'] for c in diagnostic['curves']] == [
        'ROPIM-BEiT (lr x1)', 'SimMIM-BEiT (lr x1)']
    for curve in diagnostic['curves']:
        assert [p['epoch'] for p in curve['points']] == [0, 1, 2]
        for point in curve['points']:
            assert point['baseline'] > 0
            assert point['ratio'] == pytest.approx(point['loss'] /
                                                   point['baseline'])
        assert curve['log']['grad_norm'] and all(
            norm > 0 for norm in curve['log']['grad_norm'])
    assert (out_dir / 'diagnostic_seed0.png').stat().st_size > 10000


def test_controlled_rows_differ_only_by_the_corruption(evidence_run):
    ropim_cfg, simmim_cfg = pretrain_configs(evidence_run['out_dir'])
    # optimizer (lr included), clipping, schedule, epochs, data, batch,
    # crop / flip, normalization, backbone arch and init: all equal
    assert differences(without_corruption(ropim_cfg),
                       without_corruption(simmim_cfg)) == []
    # the ROPIM authors' lr: half MAE's (1.5e-4 per 512 images, not 256)
    assert ropim_cfg.optim_wrapper.optimizer.lr == pytest.approx(
        Config.fromfile(PRMIM_TINY_CFG).optim_wrapper.optimizer.lr / 2)
    assert (ropim_cfg.model.type, simmim_cfg.model.type) == ('ROPIM',
                                                             'PRMIMSimMIM')
    # the corruption: ROPIM's sketch against a 60% mask, no thrown token
    sampling = simmim_cfg.train_dataloader.dataset.pipeline[-2]
    assert (sampling.type, sampling.mask_ratio,
            sampling.throw_ratio) == ('FurthestSampling', 0.6, 0.0)
    assert simmim_cfg.model.neck.aggregator is None
    # both fine-tune as the same BEiT-style ViT
    finetunes = [
        Config.fromfile(evidence_run['out_dir'] / 'seed0' /
                        f'finetune_{slug}' / 'finetune_config.py')
        for slug in ROWS
    ]
    for cfg in finetunes:
        cfg.model.backbone.init_cfg.pop('checkpoint')
        cfg.pop('work_dir')
    assert finetunes[0].model.backbone.type == 'BEiTViT'
    assert differences(finetunes[0].to_dict(), finetunes[1].to_dict()) == []


def test_controlled_models_have_the_same_encoder_and_decoder_layers(
        evidence_run):
    ropim, simmim = map(build, pretrain_configs(evidence_run['out_dir']))

    def shapes(module, drop=()):
        return {name: tuple(p.shape) for name, p in module.state_dict().items()
                if name not in drop}

    assert shapes(ropim.backbone) == shapes(simmim.backbone,
                                            drop=('mask_token', ))
    assert type(simmim.neck.pixel_decoder).__mro__[1] is type(ropim.neck)
    assert shapes(ropim.neck) == shapes(simmim.neck.pixel_decoder)
    assert type(ropim.head.loss_module) is type(simmim.head.loss_module)
    assert isinstance(ropim.head.loss_module.penalty, torch.nn.L1Loss)
    assert isinstance(simmim.head.loss_module.penalty, torch.nn.L1Loss)
    # the same seed draws the same encoder (the mask token aside)
    encoders = []
    for model in (ropim, simmim):
        torch.manual_seed(0)
        model.backbone.init_weights()
        encoders.append(model.backbone.state_dict())
    for name, value in encoders[0].items():
        torch.testing.assert_close(encoders[1][name], value, msg=name)


def test_rows_flag_offers_every_row_and_the_pairs_by_default():
    rows = [f'{method}-beit-lr-x{scale}' for scale in (1, 2, 4)
            for method in ('ropim', 'simmim')]
    rows += ['ropim-beit-lr-x4-rho-1-4', 'ropim-beit-lr-x4-rho-1-2',
             'ropim-beit-lr-x4-swapped', 'mae', 'pr-mim-0-5']
    assert evidence_args(['--rows', *rows]).rows == rows
    assert evidence_args([]).rows == [
        'ropim-beit-lr-x1', 'simmim-beit-lr-x1', 'ropim-beit-lr-x4',
        'simmim-beit-lr-x4']


def test_diagnostic_names_a_folder_without_a_plan(tmp_path):
    with pytest.raises(FileNotFoundError, match='ropim_evidence.py run'):
        diagnostic_main([str(tmp_path)])


def test_evidence_refuses_one_epoch_and_unknown_rows():
    with pytest.raises(SystemExit):
        evidence_args(['--pretrain-epochs', '1'])
    with pytest.raises(SystemExit):
        evidence_args(['--rows', 'ropim'])


def test_corruption_strength_before_training(demo_root, capsys):
    """What docs/results.md states of the corruptions at initialization:
    a smaller sketch removes more; ROPIM's reconstruction of a fresh
    BEiT-style ViT has no part in the complement subspace (its loss is the
    no-learning one), and its first gradient is far smaller than that of
    SimMIM-style masking on the same weights."""
    rows = {row['corruption']: row for row in diagnostic_main(
        [demo_root, '--corruption', '--images', '64'])}
    sketches = [rows[f'ROPIM, rho {rho:.3f}'] for rho in (1 / 7, 1 / 4, 0.5)]
    removed = [row['removed_energy'] for row in sketches]
    assert removed == sorted(removed, reverse=True)
    assert 0.75 < removed[0] < 0.95 and 0.4 < removed[2] < 0.6
    masked = rows['SimMIM-style mask 0.6']
    assert 0.45 < masked['removed_energy'] < 0.75
    for row in sketches:
        assert row['initial_ratio'] == pytest.approx(1.0, abs=0.01)
    assert masked['initial_ratio'] > 1.2
    assert sketches[0]['first_grad_norm'] < 0.3 * masked['first_grad_norm']
    # one printed table row per corruption
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith('| corruption | removed energy |')
    assert [line.split(' | ')[0] for line in printed[2:]] == [
        f'| {name}' for name in rows]
