"""Every command the docs show runs: each command of a ``bash`` / ``shell``
block and each inline `` `python tools/...` `` / `` `bash tools/...` `` /
`` `pytest ...` `` of README.md, docs/*.md and configs/*/README.md is
either run by a test of the suite (``RUN_BY``: the test that runs it, at its
tiny / demo size or with small arguments) or listed in ``NOT_RUN`` with the
reason the suite cannot run it. A new documented command that is in neither
fails ``test_every_documented_command_is_run_or_listed``."""
import ast
import configparser
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from mmropim.utils.config_groups import full_size_configs
from helpers import REPO_ROOT, assert_names, logged_scalars

DOCS = sorted([osp.join(REPO_ROOT, 'README.md')] +
              glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')) +
              glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'README.md')))
SHELL_FENCES = ('```bash', '```shell', '```sh', '```console')
# a command: optional VAR=value settings, then python / bash on a tool,
# pytest (``python -m pytest`` too) on the tests, or an install of the
# package and OpenMMLab's ``mim`` on it
PACKAGE_COMMAND = re.compile(r'^(pip install|mim (?:train|test|search|run))\s')
TOOL_COMMAND = (r'(?:[A-Z_]+=\S+\s+)*'
                r'(?:(?:python|bash)\s+tools/|(?:python\s+-m\s+)?pytest\s|'
                r'pip\s+install\s|mim\s+(?:train|test|search|run)\s)')
PYTEST_COMMAND = re.compile(
    r'^(?:[A-Z_]+=\S+\s+)*(?:python\s+-m\s+)?pytest\s')
COMMAND_IN_COMMENT = re.compile(f'({TOOL_COMMAND}.*)$')
INLINE_COMMAND = re.compile(f'`({TOOL_COMMAND}[^`]+)`')
FENCED_BLOCK = re.compile(r'^```.*?^```', re.M | re.S)
TRAILING_COMMENT = re.compile(r'\s+#.*$')

TRANSFER = 'tests/test_models/test_transfer.py::'
END_TO_END = 'tests/test_tools/test_train_end_to_end.py::'
IMAGE_FOLDER = 'tests/test_datasets/test_image_folder.py::'
BENCHMARKS = 'tests/test_tools/test_benchmark_scripts.py::'
LGP_CHAIN = ('tests/test_tools/test_lgp_chain.py::'
             'test_ropim_lgp_finetune_chain_runs')
DEMO = ('tests/test_doc_commands.py::'
        'test_demo_script_runs_with_its_set_up_stubbed')

# Documented command -> the test (``file::function``; a fixture counts) that
# runs it at its tiny / demo size (the demo data under a temporary folder,
# a few epochs or iterations, narrow widths).
PACKAGING = ('tests/test_tools/test_packaging.py::'
             'test_installed_package_serves_mim_and_mmropim_config_names')

RUN_BY = {
    'bash tools/run_demo.sh': DEMO,
    # the clone's sources into a fresh environment holding the stack
    'pip install --no-deps /path/to/mmropim': PACKAGING,
    'mim search mmropim': PACKAGING,
    'mim train mmropim my_config.py --work-dir work_dirs/mine': PACKAGING,
    'mim train mmropim CONFIG': PACKAGING,
    'python tools/dataset_converters/make_demo_data.py --out data/demo': DEMO,
    'python tools/train.py configs/ropim/'
    'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py '
    '--work-dir work_dirs/ropim_demo':
    'tests/conftest.py::pretrain_run',
    'python tools/train.py configs/ropim/'
    'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py':
    'tests/conftest.py::pretrain_run',
    'python tools/train.py configs/ropim/benchmarks/'
    'beit-mini-p8_1xb32-coslr-10e_demo-64px.py --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/ropim_demo/epoch_20.pth':
    END_TO_END + 'test_finetune_and_test_tools_run_on_the_pretrained_'
    'checkpoint',
    'python tools/train.py configs/ropim/lgp/'
    'lgp-ropim_beit-mini-p8_1xb32-coslr-10e_demo-64px.py '
    '--work-dir work_dirs/lgp_demo --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/ropim_demo/epoch_20.pth':
    LGP_CHAIN,
    'python tools/train.py configs/ropim/benchmarks/'
    'beit-mini-p8_1xb32-coslr-10e_demo-64px.py --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/lgp_demo/epoch_10.pth':
    LGP_CHAIN,
    'python tools/train.py configs/prmim/'
    'prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py '
    '--work-dir work_dirs/prmim_demo':
    'tests/conftest.py::prmim_run',
    'python tools/train.py configs/prmim/'
    'prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py':
    'tests/conftest.py::prmim_run',
    'python tools/train.py configs/downstream/ade20k/'
    'upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-128px.py '
    '--work-dir work_dirs/seg_demo --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/ropim_demo/epoch_20.pth':
    TRANSFER + 'test_tiny_transfer_from_our_pretraining_checkpoints',
    'python tools/train.py configs/downstream/coco/'
    'mask-rcnn_prmim-vit-mini-p8_simple-fpn_1xb2-2e_demo-nuclei-128px.py '
    '--work-dir work_dirs/det_demo --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/prmim_demo/epoch_20.pth':
    TRANSFER + 'test_tiny_detection_from_our_pretraining_checkpoints',
    'python tools/convert_checkpoint.py work_dirs/<run>/epoch_800.pth '
    'prmim_vit-b_backbone.pth':
    TRANSFER + 'test_converted_checkpoint_is_plain_tensors_and_loads_the_same',
    'python tools/analysis/image_mean_std.py DIR':
    IMAGE_FOLDER + 'test_mean_std_tool_matches_all_pixels',
    'python tools/analysis/image_mean_std.py DIR --channels N':
    IMAGE_FOLDER + 'test_mean_std_tool_with_one_channel',
    'python tools/train.py CONFIG --data-root DIR --cfg-options '
    'model.data_preprocessor.mean=[...] model.data_preprocessor.std=[...]':
    IMAGE_FOLDER + 'test_train_py_keeps_in_channels',
    'python tools/train.py CONFIG --data-root DIR':
    IMAGE_FOLDER + 'test_train_py_pretrains_on_the_folder',
    'python tools/model_converters/mmropim2timm.py CKPT OUT.safetensors':
    'tests/test_tools/test_mmropim2timm.py::'
    'test_vit_pretraining_checkpoint_gives_timm_vit_features',
    'python tools/analysis/visualize.py configs/prmim/'
    'prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py '
    'data/demo/imagenet/val/chelsea/chelsea_0000.png --checkpoint '
    'work_dirs/prmim_demo/epoch_20.pth --out-dir docs/images --scale 3':
    'tests/test_tools/test_visualize.py::'
    'test_visualize_tool_writes_the_panels',
    'python tools/analysis/check_configs.py [CONFIG ...] '
    '[--width-divisor 16] [--max-depth N] [--iters 2]':
    'tests/test_tools/test_full_size_configs.py::'
    'test_config_trains_at_its_batch_and_input_size',
    'python tools/benchmarks/gpu_smoke.py [--iters 20] [--configs CFG ...] '
    '[--parts smoke compare] [--out gpu_smoke.json]':
    'tests/test_tools/test_gpu_smoke.py::test_gpu_smoke_runs_tiny_on_cpu',
    'python tools/benchmarks/sketch_overhead.py --batch-size 8 --repeats 3':
    BENCHMARKS + 'test_sketch_overhead_prints_its_rows',
    'python tools/benchmarks/prmim_cost.py --batch-size 4 --repeats 5':
    BENCHMARKS + 'test_prmim_cost_prints_every_row',
    'python tools/benchmarks/ropim_diagnostic.py data/demo/digits '
    '--corruption':
    'tests/test_tools/test_ropim_evidence.py::'
    'test_corruption_strength_before_training',
}

FULL_SIZE_CHECK = ('its config trains at its per-GPU batch and input size '
                   'in tests/test_tools/test_full_size_configs.py, the '
                   'launcher in tests/test_tools/test_distributed.py')
IMAGENET_LAUNCH = 'an 8-GPU ImageNet-1k run: ' + FULL_SIZE_CHECK
SMALL_SCALE = ('37 minutes on 2 cores, more than the whole suite may take; '
               'its parts are tested in '
               'tests/test_tools/test_small_scale_metrics.py')

ROPIM_EVIDENCE = ('20 minutes or more on 2 cores, most of what the whole '
                  'suite may take; a tiny run of the same rows is '
                  'tests/test_tools/test_ropim_evidence.py::'
                  'test_tiny_evidence_run_end_to_end')
ROPIM_EVIDENCE_OTHER_ROWS = ('over half an hour on 2 cores; the script runs '
                             'end to end, on other rows and the digits only, '
                             'in tests/test_tools/test_ropim_evidence.py::'
                             'test_tiny_evidence_run_end_to_end')

# Documented command -> why the suite does not run it.
NOT_RUN = {
    'bash tools/run_tests.sh':
    'sets up the environment, then runs this suite (CI: .ci/run)',
    'pytest tests -m "not slow"':
    'runs this suite itself, less the tests marked slow (the marker is '
    'registered in setup.cfg); tools/run_tests.sh and CI run them all',
    'bash tools/dist_train.sh configs/ropim/'
    'ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k.py 8':
    IMAGENET_LAUNCH,
    'GPUS=16 bash tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR':
    'needs a Slurm cluster with GPUs; on a CPU, --launcher slurm is refused '
    'with the launcher to use (tests/test_tools/test_run_config.py)',
    'bash tools/dist_train.sh configs/prmim/'
    'prmim_vit-base-p16_8xb512-amp-coslr-800e_in1k.py 8':
    IMAGENET_LAUNCH,
    'bash tools/dist_train.sh configs/prmim/benchmarks/'
    'vit-base-p16_8xb128-coslr-100e_in1k.py 8 --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_800.pth':
    IMAGENET_LAUNCH,
    'bash tools/dist_train.sh configs/prmim/benchmarks/'
    'vit-base-p16_8xb128-coslr-100e_in1k.py 8 --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/'
    'prmim_vit-base-p16_8xb512-amp-coslr-800e_in1k/epoch_800.pth':
    IMAGENET_LAUNCH,
    'bash tools/dist_train.sh configs/ropim/benchmarks/'
    'beit-base-p16_8xb128-coslr-100e_in1k.py 8 --cfg-options '
    'model.backbone.init_cfg.checkpoint=work_dirs/'
    'ropim_beit-base-p16_8xb256-amp-coslr-300e_in1k/epoch_300.pth':
    IMAGENET_LAUNCH,
    'bash tools/dist_train.sh configs/downstream/ade20k/'
    'upernet_prmim-vit-base-p16_8xb2-amp-160k_ade20k-512x512.py 8 '
    '--cfg-options model.backbone.init_cfg.checkpoint='
    'work_dirs/<prmim run>/epoch_800.pth':
    'an 8-GPU ADE20K run: ' + FULL_SIZE_CHECK,
    'python tools/test.py configs/ropim/benchmarks/'
    'beit-base-p16_8xb128-coslr-100e_in1k.py CKPT':
    'needs ImageNet-1k and a fine-tuned ViT-B/16; tools/test.py runs on the '
    'demo fine-tuning config in ' + END_TO_END +
    'test_finetune_and_test_tools_run_on_the_pretrained_checkpoint',
    'python tools/test.py configs/prmim/benchmarks/'
    'vit-base-p16_8xb128-coslr-100e_in1k.py CKPT':
    'needs ImageNet-1k and a fine-tuned ViT-B/16; tools/test.py runs on the '
    'demo fine-tuning config in ' + END_TO_END +
    'test_finetune_and_test_tools_run_on_the_pretrained_checkpoint',
    'python tools/benchmarks/small_scale.py --quick --seeds 3':
    SMALL_SCALE,
    'python tools/benchmarks/small_scale.py --quick --seeds 3 --methods '
    'ropim-beit-lr-x2 ropim-beit-lr-x4 --out-dir '
    'work_dirs/small_scale_ropim_lr':
    SMALL_SCALE,
    'python tools/benchmarks/ropim_evidence.py --quick --seeds 2 --jobs 1 '
    '--threads 1 --rows ropim-beit-lr-x1 simmim-beit-lr-x1 ropim-beit-lr-x4 '
    'simmim-beit-lr-x4 --out-dir work_dirs/evidence_digits_quick':
    ROPIM_EVIDENCE,
    'python tools/benchmarks/ropim_evidence.py --quick --seeds 2':
    ROPIM_EVIDENCE,
    'python tools/benchmarks/ropim_evidence.py --pretrain-epochs 20 '
    '--finetune-epochs 4 --rows ropim-beit-lr-x4 simmim-beit-lr-x4 --seeds 2 '
    '--jobs 1 --threads 1 --out-dir work_dirs/evidence_digits_long':
    ROPIM_EVIDENCE,
    'python tools/benchmarks/ropim_evidence.py --pretrain-epochs 20 '
    '--finetune-epochs 4 --dataset photos --rows ropim-beit-lr-x4 '
    'simmim-beit-lr-x4 --seeds 3 --jobs 1 --threads 1 --out-dir '
    'work_dirs/evidence_photos_long':
    ROPIM_EVIDENCE_OTHER_ROWS,
    'python tools/benchmarks/ropim_evidence.py --quick --seeds 1 --jobs 1 '
    '--threads 1 --rows ropim-beit-lr-x4-rho-1-4 ropim-beit-lr-x4-rho-1-2 '
    'ropim-beit-lr-x4-swapped --out-dir work_dirs/evidence_digits_ablations':
    ROPIM_EVIDENCE_OTHER_ROWS,
    'python tools/benchmarks/ropim_evidence.py --quick --seeds 1 --jobs 1 '
    '--threads 1 --dataset photos --rows ropim-beit-lr-x4 simmim-beit-lr-x4 '
    '--out-dir work_dirs/evidence_photos_quick':
    ROPIM_EVIDENCE_OTHER_ROWS,
    'python tools/benchmarks/ropim_diagnostic.py '
    'work_dirs/evidence_digits_quick --figure '
    'docs/images/ropim_diagnostic_digits.png':
    'reads the checkpoints of the run above; '
    'tests/test_tools/test_ropim_evidence.py::'
    'test_tiny_evidence_run_end_to_end runs it on a tiny run\'s',
}


def block_commands(lines):
    """The commands of the lines of one shell block: continuation lines
    joined, trailing comments dropped, and a command written inside a
    comment (``# a Slurm cluster: GPUS=16 bash tools/...``) kept."""
    commands, pending = [], ''
    for line in lines:
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith('#')):
            found = COMMAND_IN_COMMENT.search(stripped)
            if found:
                commands.append(found.group(1))
            continue
        pending += ' ' + stripped
        if pending.endswith('\\'):
            pending = pending[:-1]
            continue
        commands.append(TRAILING_COMMENT.sub('', pending))
        pending = ''
    return commands


def doc_commands(text):
    """Every command shown in one Markdown text, whitespace normalized."""
    commands, block = [], None
    for line in text.splitlines():
        if block is None:
            if line.strip().startswith(SHELL_FENCES):
                block = []
        elif line.strip().startswith('```'):
            commands += block_commands(block)
            block = None
        else:
            block.append(line)
    commands += INLINE_COMMAND.findall(FENCED_BLOCK.sub('', text))
    return [' '.join(command.split()) for command in commands]


def documented_commands():
    """{command: [the docs that show it]} over every doc."""
    found = {}
    for doc in DOCS:
        with open(doc) as f:
            for command in doc_commands(f.read()):
                found.setdefault(command, []).append(
                    osp.relpath(doc, REPO_ROOT))
    return found


def unaccounted(commands):
    """The commands neither run by a test nor listed with a reason."""
    return sorted(set(commands) - set(RUN_BY) - set(NOT_RUN))


def tool_of(command):
    """The ``tools/...`` script a command runs, the ``tests`` folder or
    file a pytest command runs, or the ``pip install`` / ``mim ...``
    command."""
    package = PACKAGE_COMMAND.match(command)
    if package:
        return package.group(1)
    if PYTEST_COMMAND.match(command):
        return re.search(r'(?<=\s)tests(?:/\S*)?', command).group(0)
    return re.search(r'tools/\S+', command).group(0)


def registered_markers():
    """The pytest markers registered in setup.cfg."""
    config = configparser.ConfigParser()
    config.read(osp.join(REPO_ROOT, 'setup.cfg'))
    return {
        line.split(':')[0].strip()
        for line in config['tool:pytest']['markers'].splitlines()
        if line.strip()
    }


def markers_selected(command):
    """The marker names of a pytest command's ``-m`` expression."""
    found = re.search(r'\s-m\s+(?:"([^"]*)"|\'([^\']*)\'|(\S+))', command)
    if not found:
        return set()
    expression = next(group for group in found.groups() if group is not None)
    return set(re.findall(r'\w+', expression)) - {'and', 'or', 'not'}


def test_every_documented_command_is_run_or_listed():
    found = documented_commands()
    missing = {c: found[c] for c in unaccounted(found)}
    assert not missing, (
        'documented commands that no test runs and NOT_RUN does not list '
        f'(add them to RUN_BY or NOT_RUN in {__file__}): {missing}')


def test_no_listed_command_is_stale_or_listed_twice():
    listed = set(RUN_BY) | set(NOT_RUN)
    stale = sorted(listed - set(documented_commands()))
    assert not stale, f'listed but shown in no doc any more: {stale}'
    assert not set(RUN_BY) & set(NOT_RUN)


def test_a_new_command_in_a_doc_is_caught():
    text = ('Run it:\n\n```bash\n# first\npython tools/train.py CONFIG \\\n'
            '    --work-dir W  # a comment\n# 8 GPUs: GPUS=8 bash '
            'tools/slurm_train.sh P J C W\npytest tests/test_x.py \\\n'
            '    -m "not slow"\n```\n\nor `python tools/'
            'new_tool.py\n--flag` inline, or `python -m pytest tests`,\n'
            'or `mim train mmropim C` after `pip install --no-deps .`.\n')
    commands = doc_commands(text)
    assert commands == [
        'python tools/train.py CONFIG --work-dir W',
        'GPUS=8 bash tools/slurm_train.sh P J C W',
        'pytest tests/test_x.py -m "not slow"',
        'python tools/new_tool.py --flag',
        'python -m pytest tests',
        'mim train mmropim C',
        'pip install --no-deps .',
    ]
    assert [tool_of(command) for command in commands] == [
        'tools/train.py', 'tools/slurm_train.sh', 'tests/test_x.py',
        'tools/new_tool.py', 'tests', 'mim train', 'pip install'
    ]
    assert unaccounted(commands) == sorted(commands)
    documented = next(iter(RUN_BY))
    assert unaccounted([documented]) == []


def test_a_pytest_command_with_an_unregistered_marker_is_caught():
    """``-m "not slw"`` would deselect nothing and run the whole suite."""
    assert markers_selected('pytest tests -m "not slow"') == {'slow'}
    assert markers_selected("pytest tests -m 'slow and not gpu'") == {
        'slow', 'gpu'
    }
    assert 'slow' in registered_markers()
    assert not markers_selected('pytest tests -m "not slw"') <= \
        registered_markers()


def functions_of(path):
    with open(path) as f:
        tree = ast.parse(f.read())
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize('command', sorted(RUN_BY))
def test_the_test_named_for_a_command_exists_and_runs_its_tool(command):
    path, _, name = RUN_BY[command].partition('::')
    full = osp.join(REPO_ROOT, path)
    assert osp.isfile(full), RUN_BY[command]
    assert name in functions_of(full), RUN_BY[command]
    tool = tool_of(command)
    with open(full) as f:
        source = f.read()
    # the test runs the tool as a script or calls into its module (its
    # main imported: ``from tools.x.y import main``)
    if PACKAGE_COMMAND.match(command):
        # pip / mim with the subcommand, as the test's arguments
        words = tool.split()
        assert ', '.join(f"'{w}'" for w in words) in source, (
            tool, RUN_BY[command])
        return
    stem = osp.splitext(osp.basename(tool))[0]
    module = osp.splitext(tool)[0].replace('/', '.')
    assert tool in source or f'{stem}.' in source or \
        f'from {module} import' in source, (tool, RUN_BY[command])
    assert osp.isfile(osp.join(REPO_ROOT, tool)), tool


@pytest.mark.parametrize('command', sorted(NOT_RUN))
def test_a_command_not_run_names_a_tool_and_checked_configs(command):
    """A multi-GPU command that the suite cannot launch names a config that
    the full-size config check trains (at narrow widths on the CPU); a
    pytest command names tests that exist and only registered markers."""
    if PYTEST_COMMAND.match(command):
        assert osp.exists(osp.join(REPO_ROOT, tool_of(command))), command
        assert markers_selected(command) <= registered_markers(), command
        return
    assert osp.isfile(osp.join(REPO_ROOT, tool_of(command))), command
    configs = re.findall(r'configs/\S+\.py', command)
    if 'dist_train.sh' not in command and 'tools/test.py' not in command:
        return
    full_size = {
        osp.relpath(p, REPO_ROOT)
        for p in full_size_configs(osp.join(REPO_ROOT, 'configs'))
    }
    assert configs and set(configs) <= full_size, command


def test_demo_script_runs_with_its_set_up_stubbed(tmp_path):
    """``bash tools/run_demo.sh`` as documented, in a copy of the repository
    whose ``tools/setup_env.sh`` does nothing (the set-up installs packages,
    which the suite must not do) and 2 iterations instead of 20 epochs: the
    demo sets are written under the copy's data/demo
    (``tools/dataset_converters/make_demo_data.py --out data/demo``), the
    pre-training runs on them and the summary is printed."""
    root = tmp_path / 'repo'
    (root / 'tools').mkdir(parents=True)
    for name in ('configs', 'mmropim'):
        (root / name).symlink_to(osp.join(REPO_ROOT, name))
    for entry in glob.glob(osp.join(REPO_ROOT, 'tools', '*')):
        name = osp.basename(entry)
        if name != 'setup_env.sh':
            (root / 'tools' / name).symlink_to(entry)
    (root / 'tools' / 'setup_env.sh').write_text('echo set-up skipped\n')
    env = dict(os.environ, MMROPIM_VENV=osp.dirname(osp.dirname(
        sys.executable)), WORK_DIR=str(tmp_path / 'work'))
    result = subprocess.run(
        ['bash', 'tools/run_demo.sh', '--cfg-options',
         'train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=64',
         'default_hooks.logger.interval=1',
         'default_hooks.checkpoint.interval=1'],
        cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-3000:]
    for name in ('imagenet', 'digits', 'ade20k', 'coco'):
        assert (root / 'data' / 'demo' / name).is_dir()
    assert result.stdout.startswith('set-up skipped\n')
    losses = [row for row in logged_scalars(str(tmp_path / 'work'))[-1]
              if 'loss' in row]
    assert [row['iter'] for row in losses] == [1, 2]  # 64 / 32
    # the summary: first and last loss, the last checkpoint
    assert_names(result.stdout, f'{losses[0]["loss"]:.4f}',
                 f'{losses[-1]["loss"]:.4f}',
                 f'{tmp_path}/work/epoch_1.pth')
