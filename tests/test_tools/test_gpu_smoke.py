"""tools/benchmarks/gpu_smoke.py runs on the CPU in its tiny setting: the
smoke rows train with the configs' optimizer wrappers (AMP emulated on the
CPU) and the comparisons cover MAE, partial and PR-MIM at every throw ratio
and ROPIM vs MAE."""
import json
import os.path as osp

from helpers import run_tool

CONFIGS = [
    'configs/ropim/ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
    'configs/ropim/ropim_beit-base-p16_8xb256-amp-coslr-800e_in1k.py',
    'configs/prmim/prmim_vit-base-p16_8xb512-amp-coslr-100e_in1k.py',
    'configs/prmim/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py',
]


def test_gpu_smoke_runs_tiny_on_cpu(tmp_path):
    out = str(tmp_path / 'smoke.json')
    log = run_tool('tools/benchmarks/gpu_smoke.py', '--device', 'cpu',
                   '--tiny', '--iters', '6', '--configs', *CONFIGS, '--out',
                   out)
    with open(out) as f:
        report = json.load(f)
    assert report['device'] == 'cpu' and report['width_divisor'] == 16
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
    for part in report['compare'].values():
        assert part['rows'][0]['time_x_first'] == 1.0
        assert all(r['step_ms'] > 0 for r in part['rows'])
    assert 'PR-MIM 0.50' in log and osp.isfile(out)
