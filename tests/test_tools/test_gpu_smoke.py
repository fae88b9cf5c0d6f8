"""tools/benchmarks/gpu_smoke.py runs on the CPU in its tiny setting (and 2
layers per encoder / decoder) and prints every row: the smoke rows train
with the configs' optimizer wrappers (AMP emulated on the CPU) and the
comparisons cover MAE, partial and PR-MIM at every throw ratio and ROPIM vs
MAE."""
import json
import os.path as osp
import re

import pytest

from helpers import run_tool

# multi-process runs, full-size configs, benchmark scripts: `-m "not slow"`
pytestmark = pytest.mark.slow

CONFIGS = [
    'configs/ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
    'configs/ropim/ropim_beit-base-p16_8xb256-amp-coslr-800e_in1k.py',
    'configs/prmim/prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py',
    'configs/prmim/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py',
]


def test_gpu_smoke_runs_tiny_on_cpu(tmp_path):
    out = str(tmp_path / 'smoke.json')
    # 2 layers per encoder / decoder: the suite's time budget
    log = run_tool('tools/benchmarks/gpu_smoke.py', '--device', 'cpu',
                   '--tiny', '--max-depth', '2', '--iters', '6', '--configs',
                   *CONFIGS, '--out', out)
    with open(out) as f:
        report = json.load(f)
    assert report['device'] == 'cpu'
    assert (report['width_divisor'], report['max_depth']) == (16, 2)
    # the two ROPIM configs differ only in their schedule: one run; the
    # fine-tuning config is not a pre-training one
    assert [len(r['configs']) for r in report['smoke']] == [2, 1]
    for row in report['smoke']:
        assert row['batch_size'] == 4 and len(row['losses']) == 6
        assert row['finite'] and row['nonzero'] and row['falling']
        assert row['optim_wrapper'] == 'CPUAmpOptimWrapper'
        assert row['amp_dtype'] == 'torch.float16'
        assert row['images_per_s'] > 0
    methods = [r['method'] for r in report['compare']['prmim']['rows']]
    assert methods == ['MAE', 'partial 0.25', 'partial 0.50', 'partial 0.65',
                       'PR-MIM 0.25', 'PR-MIM 0.50', 'PR-MIM 0.65']
    assert [r['method'] for r in report['compare']['ropim']['rows']] == \
        ['MAE', 'ROPIM']
    for part in report['compare'].values():  # times against the first row
        first = part['rows'][0]['step_ms']
        for row in part['rows']:
            assert row['step_ms'] > 0
            assert row['time_x_first'] == pytest.approx(
                row['step_ms'] / first, abs=0.01)
    assert osp.isfile(out)
    # the printed rows: one smoke line per setting, then the comparisons
    number = r'(\d+(?:\.\d+)?)'
    smoke_lines = re.findall(
        r'^ok   (\S+) \(\+(\d) same setting\): batch 4, CPUAmpOptimWrapper '
        rf'torch.float16, loss {number} -> {number}, {number} img/s$', log,
        re.M)
    assert [(name, int(more)) for name, more, *_ in smoke_lines] == [
        (row['configs'][0], len(row['configs']) - 1)
        for row in report['smoke']
    ], log
    compare_lines = re.findall(
        rf'^  (MAE|partial 0\.\d\d|PR-MIM 0\.\d\d|ROPIM) +{number} ms '
        rf'\({number}x\), {number} img/s$', log, re.M)
    assert [line[0] for line in compare_lines] == methods + ['MAE', 'ROPIM']
    assert all(float(v) > 0 for line in compare_lines for v in line[1:3])
