"""Every command-line tool stops on a bad flag value before doing any work,
with argparse's ``argument --NAME: ...`` line naming the value and what is
allowed (docs/bad_input.md, "Tool flags")."""
import importlib
import json
import os.path as osp

import pytest

from helpers import PRMIM_TINY_CFG

MISSING = 'no/such/file.pth'


def load_tool(relpath):
    """The tool's module, imported once as ``tools.<...>`` (as the scripts
    import each other)."""
    return importlib.import_module(relpath[:-len('.py')].replace('/', '.'))


def parse_error(capsys, relpath, argv, entry='parse_args'):
    """Run the tool's argument parsing on ``argv``; return argparse's error
    line (it must exit with status 2)."""
    with pytest.raises(SystemExit) as stop:
        getattr(load_tool(relpath), entry)(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('args')
    a_file = root / 'a_file.txt'
    a_file.write_text('x')
    checkpoint = root / 'epoch_1.pth'
    checkpoint.write_bytes(b'')
    return dict(file=str(a_file), dir=str(root), ckpt=str(checkpoint))


# (tool, argv with {file} / {dir} / {ckpt} placeholders, expected fragment)
CASES = [
    ('tools/train.py', ['{cfg}', '--work-dir', '{file}'],
     "argument --work-dir: '{file}' is a file; expected a folder"),
    ('tools/test.py', ['{cfg}', MISSING],
     f"argument checkpoint: no such file: '{MISSING}'"),
    ('tools/test.py', ['{cfg}', '{ckpt}', '--out', '{dir}/metrics.txt'],
     "argument --out: '{dir}/metrics.txt' has no metrics file extension; "
     'use one of .json'),
    ('tools/test.py', ['{cfg}', '{ckpt}', '--out', '{dir}/no/m.json'],
     "argument --out: the folder of '{dir}/no/m.json' does not exist"),
    ('tools/convert_checkpoint.py', [MISSING, 'out.pth'],
     f"argument src: no such file: '{MISSING}'"),
    ('tools/convert_checkpoint.py', ['{ckpt}', '{ckpt}'],
     "dst '{ckpt}' is the source checkpoint"),
    ('tools/convert_checkpoint.py', ['{dir}', 'out.pth'],
     "argument src: '{dir}' is a folder; expected a file"),
    ('tools/train.py', ['{cfg}', '--data-root', MISSING],
     f"argument --data-root: no such folder: '{MISSING}'"),
    ('tools/train.py', ['{cfg}', '--data-root', '{dir}', '--high-bit-range',
                        '40'],
     'argument --high-bit-range: expected "full", "image" or the bits the '
     "values use (an integer in 1..32, e.g. 12), got '40'"),
    ('tools/benchmarks/gpu_smoke.py', ['--iters', '2'],
     "argument --iters: the smoke compares each loss with the same batch's "
     '2 steps earlier: give more than 2, got 2'),
    ('tools/analysis/image_mean_std.py', ['{dir}', '--channels', '2'],
     'argument --channels: invalid choice: 2'),
    ('tools/model_converters/mmropim2timm.py', ['{ckpt}', '{ckpt}'],
     "dst '{ckpt}' is the source checkpoint"),
    ('tools/model_converters/mmropim2timm.py', ['{ckpt}', '{dir}'],
     "argument dst: '{dir}' is a folder; expected a file name"),
    ('tools/analysis/image_mean_std.py', ['{file}'],
     "argument root: '{file}' is a file"),
    ('tools/analysis/image_mean_std.py', ['{dir}', '--max-images', '0'],
     "argument --max-images: must be an integer >= 1, got '0'"),
    ('tools/dataset_converters/make_demo_data.py', ['--seed', '-1'],
     "argument --seed: must be an integer >= 0, got '-1'"),
    ('tools/dataset_converters/make_demo_data.py', ['--out', '{file}'],
     "argument --out: '{file}' is a file"),
    ('tools/dataset_converters/make_demo_data.py', ['--sets', 'imagenet1k'],
     "argument --sets: invalid choice: 'imagenet1k'"),
    ('tools/benchmarks/prmim_cost.py', ['--batch-size', '0'],
     "argument --batch-size: must be an integer >= 1, got '0'"),
    ('tools/benchmarks/prmim_cost.py', ['--repeats', 'three'],
     "argument --repeats: expected an integer, got 'three'"),
    ('tools/benchmarks/prmim_cost.py', ['--device', 'tpu'],
     "argument --device: unknown device 'tpu'; use cpu, cuda or cuda:N"),
    ('tools/benchmarks/sketch_overhead.py', ['--device', 'cuda:99'],
     "argument --device: 'cuda:99' asked for, but"),
    ('tools/benchmarks/sketch_overhead.py', ['--out', '{dir}'],
     "argument --out: '{dir}' is a folder; expected a file name"),
    ('tools/benchmarks/gpu_smoke.py', ['--configs', MISSING],
     f"argument --configs: no such file: '{MISSING}'"),
    ('tools/benchmarks/gpu_smoke.py', ['--width-divisor', '0'],
     "argument --width-divisor: must be an integer >= 1, got '0'"),
    ('tools/benchmarks/gpu_smoke.py', ['--parts', 'timing'],
     "argument --parts: invalid choice: 'timing'"),
    ('tools/benchmarks/small_scale.py', ['--pretrain-epochs', '1'],
     '--pretrain-epochs must be >= 2 (warm-up epochs, then the cosine '
     'decay), got 1'),
    ('tools/benchmarks/small_scale.py', ['--finetune-epochs', '-3'],
     "argument --finetune-epochs: must be an integer >= 1, got '-3'"),
    ('tools/benchmarks/small_scale.py', ['--jobs', '0'],
     "argument --jobs: must be an integer >= 1, got '0'"),
    ('tools/benchmarks/small_scale.py', ['--methods', 'ropim'],
     "argument --methods: invalid choice: 'ropim' (choose from "),
    ('tools/analysis/visualize.py', ['{cfg}', MISSING],
     f"argument image: no such file: '{MISSING}'"),
    ('tools/analysis/visualize.py', ['{cfg}', '{file}', '--scale', '0'],
     "argument --scale: must be an integer >= 1, got '0'"),
    ('tools/analysis/visualize.py', ['{cfg}', '{file}', '--checkpoint',
                                     MISSING],
     f"argument --checkpoint: no such file: '{MISSING}'"),
    ('tools/analysis/check_configs.py', ['--max-depth', '0'],
     "argument --max-depth: must be an integer >= 1, got '0'"),
    ('tools/analysis/check_configs.py', [MISSING],
     f"argument configs: no such file: '{MISSING}'"),
    ('tools/analysis/check_data.py', ['{cfg}', '--workers', '0'],
     "argument --workers: must be an integer >= 1, got '0'"),
]


def fill(text, files):
    return text.format(cfg=PRMIM_TINY_CFG, **files)


@pytest.mark.parametrize(
    'relpath,argv,expected', CASES,
    ids=[f'{osp.basename(c[0])}:{" ".join(c[1])}' for c in CASES])
def test_bad_flag_stops_the_tool(capsys, files, relpath, argv, expected):
    line = parse_error(capsys, relpath, [fill(a, files) for a in argv])
    assert fill(expected, files) in line, line


def test_summarize_run_names_a_missing_work_dir(capsys):
    line = parse_error(capsys, 'tools/analysis/summarize_run.py',
                       ['no/such/run'], entry='main')
    assert "argument work_dir: no such folder: 'no/such/run'" in line


def test_summarize_run_without_a_logged_loss(tmp_path):
    """A run that stopped before its first logging interval."""
    scalars = tmp_path / '20261123_000000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(json.dumps(dict(lr=0.1, iter=0)) + '\n')
    summarize = load_tool('tools/analysis/summarize_run.py').summarize
    with pytest.raises(ValueError, match='logs no loss yet'):
        summarize(str(tmp_path))


def test_good_flags_parse(files):
    """The same parsers accept good values (the checks are not blanket
    refusals)."""
    args = load_tool('tools/test.py').parse_args(
        [PRMIM_TINY_CFG, files['ckpt'], '--out', files['dir'] + '/m.json',
         '--work-dir', files['dir']])
    assert args.out.endswith('m.json')
    args = load_tool('tools/benchmarks/prmim_cost.py').parse_args(
        ['--batch-size', '2', '--device', 'cpu', '--out',
         files['dir'] + '/cost.json'])
    assert (args.batch_size, args.device) == (2, 'cpu')
    args = load_tool('tools/dataset_converters/make_demo_data.py').parse_args(
        ['--seed', '3', '--out', files['dir'] + '/demo'])
    assert args.seed == 3
