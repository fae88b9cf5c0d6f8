"""Every command-line tool stops on a bad flag value before doing any work,
with an error line naming the option, the bad value and what is allowed
(docs/bad_input.md, "Tool flags")."""
import importlib
import json
import os.path as osp

import pytest

from helpers import PRMIM_TINY_CFG, assert_names, raises_naming

MISSING = 'no/such/file.pth'


def load_tool(relpath):
    """The tool's module, imported once as ``tools.<...>`` (as the scripts
    import each other)."""
    return importlib.import_module(relpath[:-len('.py')].replace('/', '.'))


def parse_error(capsys, relpath, argv, entry='parse_args'):
    """Run the tool's argument parsing on ``argv``; return the error line
    (parsing must stop the tool with a failure status)."""
    with pytest.raises(SystemExit) as stop:
        getattr(load_tool(relpath), entry)(argv)
    assert stop.value.code not in (0, None)
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('args')
    a_file = root / 'a_file.txt'
    a_file.write_text('x')
    checkpoint = root / 'epoch_1.pth'
    checkpoint.write_bytes(b'')
    return dict(file=str(a_file), dir=str(root), ckpt=str(checkpoint))


# (tool, argv with {file} / {dir} / {ckpt} placeholders, what the error line
# names: the option, the bad value and what is allowed)
CASES = [
    ('tools/train.py', ['{cfg}', '--work-dir', '{file}'],
     ('--work-dir', '{file}', 'folder')),
    ('tools/test.py', ['{cfg}', MISSING], ('checkpoint', MISSING)),
    ('tools/test.py', ['{cfg}', '{ckpt}', '--out', '{dir}/metrics.txt'],
     ('--out', '{dir}/metrics.txt', '.json')),
    ('tools/test.py', ['{cfg}', '{ckpt}', '--out', '{dir}/no/m.json'],
     ('--out', '{dir}/no/m.json', 'folder')),
    ('tools/convert_checkpoint.py', [MISSING, 'out.pth'],
     ('src', MISSING)),
    ('tools/convert_checkpoint.py', ['{ckpt}', '{ckpt}'],
     ('dst', '{ckpt}', 'source')),
    ('tools/convert_checkpoint.py', ['{dir}', 'out.pth'],
     ('src', '{dir}', 'folder')),
    ('tools/train.py', ['{cfg}', '--data-root', MISSING],
     ('--data-root', MISSING)),
    ('tools/train.py', ['{cfg}', '--data-root', '{dir}', '--high-bit-range',
                        '40'],
     ('--high-bit-range', 'full', 'image', '1..32', '40')),
    ('tools/benchmarks/gpu_smoke.py', ['--iters', '2'],
     ('--iters', 'more than 2')),
    ('tools/model_converters/mmropim2timm.py', ['{ckpt}', '{ckpt}'],
     ('dst', '{ckpt}', 'source')),
    ('tools/model_converters/mmropim2timm.py', ['{ckpt}', '{dir}'],
     ('dst', '{dir}', 'folder')),
    ('tools/analysis/image_mean_std.py', ['{file}'],
     ('root', '{file}')),
    ('tools/analysis/image_mean_std.py', ['{dir}', '--max-images', '0'],
     ('--max-images', '>= 1', '0')),
    ('tools/dataset_converters/make_demo_data.py', ['--seed', '-1'],
     ('--seed', '>= 0', '-1')),
    ('tools/dataset_converters/make_demo_data.py', ['--out', '{file}'],
     ('--out', '{file}')),
    ('tools/benchmarks/prmim_cost.py', ['--batch-size', '0'],
     ('--batch-size', '>= 1', '0')),
    ('tools/benchmarks/prmim_cost.py', ['--repeats', 'three'],
     ('--repeats', 'integer', 'three')),
    ('tools/benchmarks/prmim_cost.py', ['--device', 'tpu'],
     ('--device', 'tpu', 'cpu', 'cuda', 'cuda:N')),
    ('tools/benchmarks/sketch_overhead.py', ['--device', 'cuda:99'],
     ('--device', 'cuda:99')),
    ('tools/benchmarks/sketch_overhead.py', ['--out', '{dir}'],
     ('--out', '{dir}', 'folder')),
    ('tools/benchmarks/gpu_smoke.py', ['--configs', MISSING],
     ('--configs', MISSING)),
    ('tools/benchmarks/gpu_smoke.py', ['--width-divisor', '0'],
     ('--width-divisor', '>= 1', '0')),
    ('tools/benchmarks/small_scale.py', ['--pretrain-epochs', '1'],
     ('--pretrain-epochs', '>= 2', '1')),
    ('tools/benchmarks/small_scale.py', ['--finetune-epochs', '-3'],
     ('--finetune-epochs', '>= 1', '-3')),
    ('tools/benchmarks/small_scale.py', ['--jobs', '0'],
     ('--jobs', '>= 1', '0')),
    ('tools/analysis/visualize.py', ['{cfg}', MISSING],
     ('image', MISSING)),
    ('tools/analysis/visualize.py', ['{cfg}', '{file}', '--scale', '0'],
     ('--scale', '>= 1', '0')),
    ('tools/analysis/visualize.py', ['{cfg}', '{file}', '--checkpoint',
                                     MISSING],
     ('--checkpoint', MISSING)),
    ('tools/analysis/check_configs.py', ['--max-depth', '0'],
     ('--max-depth', '>= 1', '0')),
    ('tools/analysis/check_configs.py', [MISSING],
     ('configs', MISSING)),
    ('tools/analysis/check_data.py', ['{cfg}', '--workers', '0'],
     ('--workers', '>= 1', '0')),
]


def fill(text, files):
    return text.format(cfg=PRMIM_TINY_CFG, **files)


@pytest.mark.parametrize(
    'relpath,argv,names', CASES,
    ids=[f'{osp.basename(c[0])}:{" ".join(c[1])}' for c in CASES])
def test_bad_flag_stops_the_tool(capsys, files, relpath, argv, names):
    line = parse_error(capsys, relpath, [fill(a, files) for a in argv])
    assert_names(line, *[fill(name, files) for name in names])


def test_summarize_run_names_a_missing_work_dir(capsys):
    line = parse_error(capsys, 'tools/analysis/summarize_run.py',
                       ['no/such/run'], entry='main')
    assert_names(line, 'work_dir', 'no/such/run')


def test_summarize_run_without_a_logged_loss(tmp_path):
    """A run that stopped before its first logging interval."""
    scalars = tmp_path / '20261123_000000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(json.dumps(dict(lr=0.1, iter=0)) + '\n')
    summarize_run = load_tool('tools/analysis/summarize_run.py').main
    with raises_naming(ValueError, str(scalars), 'loss'):
        summarize_run([str(tmp_path)])


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
