"""tools/benchmarks/ropim_evidence.py and ropim_diagnostic.py: the controlled
ROPIM-vs-masking rows differ only by the corruption, the diagnostic's
baselines are the no-learning losses, and a tiny run end to end."""
import copy
import json
import os.path as osp

import pytest
import torch

from tools.benchmarks import ropim_diagnostic
from tools.benchmarks import ropim_evidence as evidence
from tools.benchmarks import small_scale as bench
from helpers import REPO_ROOT, run_tool


def resolved(name):
    """The config of row ``name`` with its --cfg-options merged."""
    config, options, _ = evidence.ROWS[name]
    return bench.load_config(config, options)


def build(cfg):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    return MODELS.build(cfg.model)


def without_corruption(cfg):
    """Everything the controlled rows must share: the config without the
    model's corruption-specific parts (model type, data preprocessor, head,
    the backbone's type, the decoder's config) and the masking step of the
    pipeline."""
    cfg = copy.deepcopy(cfg.to_dict())
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


@pytest.mark.parametrize('scale', evidence.LR_SCALES)
def test_controlled_rows_differ_only_by_the_corruption(scale):
    ropim_cfg = resolved(f'ROPIM-BEiT (lr x{scale})')
    simmim_cfg = resolved(f'SimMIM-BEiT (lr x{scale})')
    # optimizer (lr included), clipping, schedule, epochs, data, batch,
    # crop / flip, normalization, backbone arch and init: all equal
    assert differences(without_corruption(ropim_cfg),
                       without_corruption(simmim_cfg)) == []
    assert ropim_cfg.optim_wrapper.optimizer.lr == pytest.approx(
        scale * bench.ROPIM_LR)
    assert (ropim_cfg.model.type, simmim_cfg.model.type) == ('ROPIM',
                                                             'PRMIMSimMIM')
    # the corruption: ROPIM's sketch against a 60% mask, no thrown token
    sampling = simmim_cfg.train_dataloader.dataset.pipeline[-2]
    assert (sampling.type, sampling.mask_ratio,
            sampling.throw_ratio) == ('FurthestSampling', 0.6, 0.0)
    assert simmim_cfg.model.neck.aggregator is None
    # both fine-tune as the same BEiT-style ViT, against the same baseline
    assert evidence.ROWS[f'ROPIM-BEiT (lr x{scale})'][2] == \
        evidence.ROWS[f'SimMIM-BEiT (lr x{scale})'][2]


def test_controlled_models_have_the_same_encoder_and_decoder_layers():
    ropim = build(resolved('ROPIM-BEiT (lr x1)'))
    simmim = build(resolved('SimMIM-BEiT (lr x1)'))

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


def test_ablation_rows_set_the_sketch_ratio_and_the_swap():
    for text, rho in evidence.RHOS.items():
        model = build(resolved(f'ROPIM-BEiT (lr x4, rho {text})'))
        assert model.data_preprocessor.rho == rho
        assert not model.swap_subspaces
    model = build(resolved('ROPIM-BEiT (lr x4, swapped)'))
    assert model.swap_subspaces
    assert model.data_preprocessor.rho == pytest.approx(1 / 7)
    for name in evidence.ablation_rows():
        assert resolved(name).optim_wrapper.optimizer.lr == pytest.approx(
            4 * bench.ROPIM_LR)


def test_row_plan_adds_the_random_init_of_each_vit():
    plan = evidence.row_plan(['simmim-beit-lr-x4', 'mae'])
    assert [name for name, _ in plan] == [
        'random init', 'random init (BEiT)', 'SimMIM-BEiT (lr x4)', 'MAE']
    assert evidence.baseline_of('SimMIM-BEiT (lr x4)') == 'random init (BEiT)'
    assert evidence.baseline_of('MAE') == 'random init'


def test_verdicts_compare_ropim_with_simmim_at_the_same_lr():
    rows = []
    for name, value, baseline in (
            ('random init (BEiT)', 40.0, None),
            ('ROPIM-BEiT (lr x4)', 50.0, 'random init (BEiT)'),
            ('SimMIM-BEiT (lr x4)', 60.0, 'random init (BEiT)'),
            ('SimMIM-BEiT (lr x1)', 30.0, 'random init (BEiT)')):
        row = dict(method=name, seeds=3, baseline=baseline)
        for column in bench.COLUMNS:
            row[column], row[f'{column}_std'] = value, 1.0
        rows.append(row)
    lines = evidence.verdicts(rows)
    controlled = [line for line in lines if line.startswith('controlled')]
    # only the lr with both rows is compared
    assert len(controlled) == 1
    assert 'ROPIM-BEiT (lr x4) vs SimMIM-BEiT (lr x4)' in controlled[0]
    assert 'finetune_top1 below (-10.0' in controlled[0]
    assert any(line.startswith('SimMIM-BEiT (lr x1) vs random init (BEiT)')
               and 'below' in line for line in lines)


def test_diagnostic_baselines_are_the_no_learning_losses():
    """ROPIM: predicting the projected input scores exactly the baseline
    (the complement of Pi x is 0); the exact image scores 0. SimMIM:
    predicting each image's mean visible colour is the baseline."""
    model = build(resolved('ROPIM-BEiT (lr x1)'))
    images = torch.randn(4, 3, 64, 64)
    generator = torch.Generator().manual_seed(0)
    values = ropim_diagnostic.ropim_losses(model, images, generator)
    assert values['baseline'] > 0.5  # L1 of (I - Pi) x, x ~ N(0, 1)
    from mmropim.models.utils import CountSketch, patchify
    sketch = CountSketch.draw(4, 64, model.data_preprocessor.rho,
                              generator=torch.Generator().manual_seed(0))
    projected = sketch.project(patchify(images, 8))
    expected = sketch.complement(patchify(images, 8)).abs().mean()
    assert values['baseline'] == pytest.approx(expected.item(), rel=1e-5)
    # a reconstruction inside the subspace of the input scores the baseline
    model.reconstruct = lambda x, s: unpatchify(projected, 8)
    values = ropim_diagnostic.ropim_losses(
        model, images, torch.Generator().manual_seed(0))
    assert values['loss'] == pytest.approx(values['baseline'], rel=1e-5)
    model.reconstruct = lambda x, s: x
    values = ropim_diagnostic.ropim_losses(
        model, images, torch.Generator().manual_seed(0))
    assert values['loss'] == pytest.approx(0.0, abs=1e-6)

    simmim = build(resolved('SimMIM-BEiT (lr x1)'))
    # one colour per image: the mean visible colour is exact
    flat = torch.randn(4, 3, 1, 1).expand(4, 3, 64, 64).contiguous()
    values = ropim_diagnostic.simmim_losses(
        simmim, flat, torch.Generator().manual_seed(0), 0.6)
    assert values['baseline'] == pytest.approx(0.0, abs=1e-6)
    values = ropim_diagnostic.simmim_losses(
        simmim, images, torch.Generator().manual_seed(0), 0.6)
    assert values['baseline'] > 0.5 and values['loss'] > 0.0


def unpatchify(patches, patch):
    """(B, K, p * p * 3) patches in ``patchify``'s layout (row-major tokens,
    then rows, columns and channels of a patch) back to (B, 3, H, W)."""
    batch, tokens, _ = patches.shape
    grid = int(tokens**0.5)
    x = patches.reshape(batch, grid, grid, patch, patch, 3)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(batch, 3, grid * patch,
                                               grid * patch)


def test_masks_have_exactly_the_mask_ratio():
    masks = ropim_diagnostic.random_masks(
        5, (8, 8), 0.6, torch.Generator().manual_seed(0))
    assert masks.shape == (5, 8, 8)
    assert masks.flatten(1).sum(1).tolist() == [38.0] * 5
    assert not torch.equal(masks[0], masks[1])


def test_tiny_evidence_run_end_to_end(demo_root, tmp_path):
    """Two controlled rows and their random init, 2 + 2 epochs on the demo
    images, 1 seed; then the diagnostic reads every epoch's checkpoint."""
    out_dir = tmp_path / 'out'
    run_tool('tools/benchmarks/ropim_evidence.py', '--pretrain-epochs', '2',
             '--finetune-epochs', '2', '--seeds', '1', '--jobs', '1',
             '--rows', 'ropim-beit-lr-x1', 'simmim-beit-lr-x1', '--data',
             demo_root, '--out-dir', str(out_dir))
    result = json.loads((out_dir / 'ropim_evidence.json').read_text())
    assert [row['method'] for row in result['rows']] == [
        'random init (BEiT)', 'ROPIM-BEiT (lr x1)', 'SimMIM-BEiT (lr x1)']
    assert any(line.startswith('controlled: ROPIM-BEiT (lr x1) vs '
                               'SimMIM-BEiT (lr x1)')
               for line in result['verdicts'])
    for row in result['rows']:
        for column in bench.COLUMNS:
            assert 0.0 <= row[column] <= 100.0
    for slug in ('ropim-beit-lr-x1', 'simmim-beit-lr-x1'):
        names = {osp.basename(p) for p in (
            out_dir / 'seed0' / f'pretrain_{slug}').glob('epoch_*.pth')}
        assert names == {'epoch_1.pth', 'epoch_2.pth'}
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


def test_diagnostic_names_a_folder_without_a_plan(tmp_path):
    with pytest.raises(FileNotFoundError, match='ropim_evidence.py run'):
        ropim_diagnostic.main([str(tmp_path)])


def test_evidence_refuses_one_epoch_and_unknown_rows():
    with pytest.raises(SystemExit):
        evidence.parse_args(['--pretrain-epochs', '1'])
    with pytest.raises(SystemExit):
        evidence.parse_args(['--rows', 'ropim'])
    assert REPO_ROOT  # the tools import from the repository root


def test_corruption_strength_before_training(demo_root):
    """What docs/results.md states of the corruptions at initialization:
    a smaller sketch removes more; ROPIM's reconstruction of a fresh
    BEiT-style ViT has no part in the complement subspace (its loss is the
    no-learning one), and its first gradient is far smaller than that of
    SimMIM-style masking on the same weights."""
    rows = {row['corruption']: row
            for row in ropim_diagnostic.corruption_strength(
                demo_root, num_images=64)}
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
