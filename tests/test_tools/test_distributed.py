"""Two training processes through the real ``tools/dist_train.sh`` on this
CPU machine (gloo): both ranks train, draw their own sketches / masks and
images, end with identical parameters, and the checkpoint resumes in one
process."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from mmropim.utils import load_local_checkpoint
from helpers import REPO_ROOT, TESTS_DIR, logged_iterations, run_tool

# multi-process runs, full-size configs, benchmark scripts: `-m "not slow"`
pytestmark = pytest.mark.slow

CONFIGS = {
    'ropim': ('configs/ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py',
              ['train_cfg.max_epochs=1'], 'epoch_1.pth'),
    'prmim': ('configs/prmim/prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py',
              ['train_cfg.max_epochs=1'], 'epoch_1.pth'),
    # MoCo v3 gathers the keys of all ranks (without a graft here)
    'lgp': ('configs/ropim/lgp/'
            'lgp-ropim_beit-mini-p8_1xb32-coslr-10e_demo-64px.py',
            ['train_cfg.max_epochs=1', 'model.backbone.init_cfg=None'],
            'epoch_1.pth'),
    'segmentation':
    ('configs/downstream/ade20k/'
     'upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-128px.py',
     ['train_cfg.max_iters=4', 'model.backbone.init_cfg=None',
      'default_hooks.checkpoint.interval=4'], 'iter_4.pth'),
    'detection':
    ('configs/downstream/coco/'
     'mask-rcnn_prmim-vit-mini-p8_simple-fpn_1xb2-2e_demo-nuclei-128px.py',
     ['train_cfg.max_epochs=1', 'model.backbone.init_cfg=None'],
     'epoch_1.pth'),
}
DATA_KEYS = {
    'ropim': ['train_dataloader.dataset.data_root={}/imagenet/'],
    'prmim': ['train_dataloader.dataset.data_root={}/imagenet/'],
    'lgp': ['train_dataloader.dataset.data_root={}/imagenet/'],
    'segmentation': ['train_dataloader.dataset.data_root={}/ade20k/'],
    'detection': ['train_dataloader.dataset.data_root={}/coco/'],
}


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def probe_config(tmp_path, config):
    """The config with the probe hook added (a child config, as a user
    would write one)."""
    path = tmp_path / 'probed.py'
    path.write_text(
        f"_base_ = [{osp.join(REPO_ROOT, config)!r}]\n"
        "custom_imports = dict(imports=['mmropim', 'dist_probe'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [\n"
        "    dict(type='FiniteLossHook', interval=10,\n"
        "         max_zero_loss_iters=20),\n"
        "    dict(type='DistProbeHook'),\n"
        "]\n")
    return str(path)


@pytest.fixture(scope='module', params=sorted(CONFIGS))
def two_process_run(request, demo_sets, tmp_path_factory):
    name = request.param
    config, options, checkpoint = CONFIGS[name]
    tmp_path = tmp_path_factory.mktemp(f'dist_{name}')
    work_dir = str(tmp_path / 'work')
    options = options + [k.format(demo_sets) for k in DATA_KEYS[name]]
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               PYTHONPATH=TESTS_DIR, OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', probe_config(tmp_path, config), '2',
         '--work-dir', work_dir, '--no-validate', '--cfg-options', *options],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-5000:]
    probes = []
    for rank in (0, 1):
        with open(osp.join(work_dir, f'probe_rank{rank}.json')) as f:
            probes.append(json.load(f))
    return dict(name=name, config=config, options=options, probes=probes,
                work_dir=work_dir, checkpoint=osp.join(work_dir, checkpoint))


def test_both_ranks_train_under_ddp(two_process_run):
    for rank, probe in enumerate(two_process_run['probes']):
        assert probe['rank'] == rank and probe['world_size'] == 2
        assert probe['model_wrapper'] == 'MMDistributedDataParallel'
        assert len(probe['losses']) >= 3
        assert all(0 < loss < float('inf') for loss in probe['losses'])
    assert len(two_process_run['probes'][0]['losses']) == \
        len(two_process_run['probes'][1]['losses'])


def test_ranks_see_their_own_images_and_random_draws(two_process_run):
    first, second = two_process_run['probes']
    for a, b in zip(first['inputs'], second['inputs']):
        assert a != b
    if two_process_run['name'] in ('ropim', 'prmim'):
        assert None not in first['draws']
        for a, b in zip(first['draws'], second['draws']):
            assert a != b
        # and no rank repeats a draw from one iteration to the next
        assert len(set(first['draws'])) == len(first['draws'])


def test_parameters_are_identical_across_ranks(two_process_run):
    first, second = two_process_run['probes']
    assert first['num_parameters'] > 10
    assert first['parameters'] == second['parameters']


def test_checkpoint_resumes_in_one_process(two_process_run):
    run = two_process_run
    assert osp.isfile(run['checkpoint'])
    more = [o.replace('max_epochs=1', 'max_epochs=2').replace(
        'max_iters=4', 'max_iters=6') for o in run['options']]
    run_tool('tools/train.py', osp.join(REPO_ROOT, run['config']),
             '--work-dir', run['work_dir'], '--no-validate', '--resume',
             run['checkpoint'], '--cfg-options', *more)
    # it continues after the checkpoint's iteration
    done = load_local_checkpoint(run['checkpoint'])['meta']['iter']
    iterations = logged_iterations(run['work_dir'])
    assert iterations and min(iterations) > done
