"""The benchmark scripts of tools/benchmarks/ run end to end on small models
(``--width-divisor 16 --max-depth 2``, batch 1, one timed round) and print
every row of their tables with numbers that parse; the modules they share
are not scripts and say so when run."""
import glob
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

from helpers import REPO_ROOT, run_tool

# multi-process runs, full-size configs, benchmark scripts: `-m "not slow"`
pytestmark = pytest.mark.slow

NUMBER = r'(-?\d+(?:\.\d+)?)'
QUICK = ['--device', 'cpu', '--batch-size', '1', '--repeats', '1',
         '--width-divisor', '16', '--max-depth', '2']


def test_prmim_cost_prints_every_row(tmp_path):
    out = str(tmp_path / 'cost.json')
    log = run_tool('tools/benchmarks/prmim_cost.py', *QUICK, '--out', out)
    row = re.compile(r'^(mae|partial|prmim)\s+' + r'\s+'.join([NUMBER] * 7) +
                     '$', re.M)
    rows = [(m[0], [float(v) for v in m[1:]]) for m in row.findall(log)]
    assert [(name, values[0]) for name, values in rows] == [
        ('mae', 0.0), ('partial', 0.25), ('partial', 0.5), ('partial', 0.65),
        ('prmim', 0.0), ('prmim', 0.25), ('prmim', 0.5), ('prmim', 0.65)
    ], log
    by_row = {(name, values[0]): values[1:] for name, values in rows}
    # GFLOPs, x MAE, act MB, x MAE, step ms, x MAE
    assert all(v > 0 for values in by_row.values() for v in values)
    assert by_row[('mae', 0.0)][1::2] == [1.0, 1.0, 1.0]
    for method in ('partial', 'prmim'):
        flops = [by_row[(method, r)][0] for r in (0.25, 0.5, 0.65)]
        assert flops == sorted(flops, reverse=True), (method, flops)
    # nothing thrown: PR-MIM's token path costs what MMPretrain's MAE does
    assert by_row[('prmim', 0.0)][1] == pytest.approx(1.0, abs=0.01)
    assert re.search(
        r'^ViT-B/16 \(widths / 16, depth <= 2\), 224 px, batch 1, ', log,
        re.M), log
    assert re.search(
        r'^aggregator \(7x7 depth-wise, 32 ch, 14x14\) forward \+ backward: '
        f'{NUMBER} MFLOPs per image = {NUMBER}% of the PR-MIM step', log,
        re.M), log
    assert re.search(
        f'^furthest sampling per image \\(data worker\\): {NUMBER} ms '
        f'vectorized vs {NUMBER} ms plain-Python loop', log, re.M), log
    with open(out) as f:
        report = json.load(f)
    assert report['batch_size'] == 1
    assert (report['width_divisor'], report['max_depth']) == (16, 2)
    assert [(r['method'], r['throw_ratio']) for r in report['rows']] == [
        (name, values[0]) for name, values in rows]


def test_sketch_overhead_prints_its_rows(tmp_path):
    out = str(tmp_path / 'sketch.json')
    log = run_tool('tools/benchmarks/sketch_overhead.py', *QUICK, '--out',
                   out)
    assert re.search(
        r'^ROPIM ViT-B/16 \(widths / 16, depth <= 2\), 224 px, batch 1, ', log,
        re.M), log
    rows = dict(re.findall(r'^(\S.*?)\s{2,}' + NUMBER + '$', log, re.M))
    assert list(rows) == [
        'sketch: draw + project + 2 complements (fast)',
        'same with dense (B, K, K) matrices',
        'ViT-B ROPIM step (forward + backward)'
    ], log
    assert all(float(v) > 0 for v in rows.values())
    assert re.search(f'^sketch share of the step: {NUMBER}% ', log, re.M)
    assert re.search(f'^dense / fast: {NUMBER}x$', log, re.M)
    with open(out) as f:
        report = json.load(f)
    assert (report['width_divisor'], report['max_depth']) == (16, 2)
    assert report['vit_b_step_ms'] > 0


# the modules of tools/benchmarks/ that are not scripts -> the script
# their message suggests
SHARED_MODULES = {
    'common': 'prmim_cost',
    'readout_rows': 'small_scale',
    'seed_table': 'small_scale',
}


@pytest.mark.parametrize('module,script', SHARED_MODULES.items())
def test_shared_modules_say_they_are_not_scripts(module, script):
    result = subprocess.run(
        [sys.executable, f'tools/benchmarks/{module}.py', '--help'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert result.stderr.strip() == (
        f'tools/benchmarks/{module}.py is imported by the benchmark scripts '
        'and runs nothing itself; run one of them, e.g. python '
        f'tools/benchmarks/{script}.py --help')


BENCHMARKS_DIR = osp.join(REPO_ROOT, 'tools', 'benchmarks')
# Benchmark scripts that no test runs as a subprocess: the test that runs
# their main() instead, and why
RUN_IN_PROCESS = {
    'ropim_diagnostic.py':
    ('tests/test_tools/test_ropim_evidence.py::'
     'test_tiny_evidence_run_end_to_end',
     'ropim_evidence.py runs it on its own output after the rows'),
}


def benchmark_scripts():
    """The scripts of tools/benchmarks/ (the files with a ``__main__``
    entry that runs ``main()``)."""
    scripts = []
    for path in sorted(glob.glob(osp.join(BENCHMARKS_DIR, '*.py'))):
        with open(path) as f:
            if re.search(r"^if __name__ == '__main__':\n    main\(\)",
                         f.read(), re.M):
                scripts.append(osp.basename(path))
    return scripts


def test_every_benchmark_script_is_run_end_to_end():
    tests = ''
    for path in glob.glob(osp.join(REPO_ROOT, 'tests', '**', 'test_*.py'),
                          recursive=True):
        with open(path) as f:
            tests += f.read()
    scripts = benchmark_scripts()
    assert {'prmim_cost.py', 'sketch_overhead.py', 'gpu_smoke.py',
            'small_scale.py', 'ropim_evidence.py'} <= set(scripts)
    # every other file of the folder is a shared module that says so
    assert sorted(
        osp.basename(path)
        for path in glob.glob(osp.join(BENCHMARKS_DIR, '*.py'))
        if osp.basename(path) not in scripts) == sorted(
            f'{module}.py' for module in SHARED_MODULES)
    not_run = [
        name for name in scripts if name not in RUN_IN_PROCESS
        and f"run_tool('tools/benchmarks/{name}'" not in tests
    ]
    assert not_run == [], 'benchmark scripts no test runs'
    for name, (test, _) in RUN_IN_PROCESS.items():
        path, _, function = test.partition('::')
        with open(osp.join(REPO_ROOT, path)) as f:
            assert f'def {function}(' in f.read(), test
