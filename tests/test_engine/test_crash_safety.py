"""A crash while a checkpoint is written loses nothing: SafeCheckpointHook
writes to a temporary file and renames it, updates last_checkpoint after,
and deletes old checkpoints last, so --resume continues from the previous
one (tested by killing a real run in the middle of a save)."""
import glob
import os
import os.path as osp

import pytest
import torch

from mmropim.engine.hooks import safe_checkpoint_hook
from mmropim.engine.hooks.safe_checkpoint_hook import write_atomically
from crash_probe import CRASH_EXIT_CODE
from helpers import (ROPIM_TINY_CFG, TESTS_DIR, logged_iterations,
                     run_tool_process)


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path,
                                                           monkeypatch):
    path = str(tmp_path / 'epoch_1.pth')
    write_atomically(b'old content', path)

    def fail(_):
        raise OSError('disk full')

    monkeypatch.setattr(safe_checkpoint_hook.os, 'fsync', fail)
    with pytest.raises(OSError, match='disk full'):
        write_atomically(b'new content that never lands', path)
    with open(path, 'rb') as f:
        assert f.read() == b'old content'
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def train(work_dir, demo_root, flags=(), config=ROPIM_TINY_CFG):
    environment = dict(os.environ)
    environment['PYTHONPATH'] = os.pathsep.join(
        [TESTS_DIR, environment.get('PYTHONPATH', '')])
    return run_tool_process(
        'tools/train.py', config, '--work-dir', work_dir, *flags,
        '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}',
        'train_dataloader.dataset.indices=64',  # 2 batches an epoch
        'train_cfg.max_epochs=2', 'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=1',
        'default_hooks.logger.interval=1', env=environment, timeout=600)


def test_run_killed_during_a_save_resumes_from_the_previous_checkpoint(
        demo_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    crashing = tmp_path / 'crashing.py'
    crashing.write_text(
        f'_base_ = [{ROPIM_TINY_CFG!r}]\n'
        "custom_imports = dict(imports=['mmropim', 'crash_probe'])\n"
        "custom_hooks = [dict(type='CrashDuringSaveHook', epoch=2)]\n")
    crashed = train(work_dir, demo_root, config=str(crashing))
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-2000:]
    # max_keep_ckpts=1: MMEngine's hook would have deleted epoch_1 already
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))
    previous = osp.join(work_dir, 'epoch_1.pth')
    assert torch.load(previous, weights_only=True)['meta']['epoch'] == 1
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read() == previous
    assert glob.glob(osp.join(work_dir, '.epoch_2.pth.*.tmp'))  # the kill
    resumed = train(work_dir, demo_root, flags=['--resume'])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert logged_iterations(work_dir) == [3, 4]  # epoch 2 only
    final = osp.join(work_dir, 'epoch_2.pth')
    assert torch.load(final, weights_only=True)['meta']['epoch'] == 2
    assert not osp.exists(previous)  # max_keep_ckpts=1, after the save
    assert not glob.glob(osp.join(work_dir, '.epoch_2.pth.*.tmp'))


def test_checkpoint_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = str(tmp_path / 'epoch_1.pth')
        write_atomically(b'weights', path)
    finally:
        os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o644  # not mkstemp's 0600


def hook_before_train(out_dir, work_dir):
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger

    from mmropim.engine import SafeCheckpointHook
    hook = SafeCheckpointHook(interval=1, out_dir=out_dir)
    runner = SimpleNamespace(
        work_dir=work_dir, logger=MMLogger.get_instance('safe_hook_test'),
        message_hub=MessageHub.get_instance('safe_hook_test'), _resume=False)
    hook.before_train(runner)
    return hook


def test_atomic_writes_for_local_folders_only(tmp_path, monkeypatch):
    from mmengine.fileio import LocalBackend
    from mmengine.hooks import checkpoint_hook

    from mmropim.engine import AtomicLocalBackend
    stale = tmp_path / '.epoch_3.pth.x1y2.tmp'  # a killed save's leftover
    stale.write_bytes(b'half')
    kept = tmp_path / '.notes.tmp'
    kept.write_bytes(b'not ours')
    local = hook_before_train(None, str(tmp_path))
    # wrapped so that it deletes only the hook's own checkpoints
    assert isinstance(local.file_backend.backend, AtomicLocalBackend)
    assert not stale.exists() and kept.exists()
    asked = []  # (out_dir, backend_args): no S3 client here to build one

    def record(uri, backend_args=None):
        asked.append((uri, backend_args))
        return LocalBackend()

    monkeypatch.setattr(checkpoint_hook, 'get_file_backend', record)
    monkeypatch.setattr(checkpoint_hook.FileClient, 'infer_client',
                        lambda *args, **kwargs: None)
    hook_before_train('s3://bucket/runs', str(tmp_path))
    assert asked == [('s3://bucket/runs', None)]  # MMEngine picks by prefix


def test_validation_leaves_the_random_states_as_it_found_them():
    """A resumed run does not repeat the validation after its checkpoint,
    so the straight run's validation must not move the streams."""
    import random

    import numpy as np

    from mmropim.engine import SafeCheckpointHook

    def seed_and_draw(validate):
        torch.manual_seed(0)
        np.random.seed(0)
        random.seed(0)
        if validate:
            from types import SimpleNamespace

            from mmengine.logging import MMLogger
            runner = SimpleNamespace(logger=MMLogger.get_instance('val'))
            hook = SafeCheckpointHook()
            hook.before_val_epoch(runner)
            torch.rand(5), np.random.rand(5), random.random()  # val draws
            hook.after_val_epoch(runner, {})
        return torch.rand(2).tolist(), np.random.rand(2).tolist(), \
            random.random()

    assert seed_and_draw(validate=True) == seed_and_draw(validate=False)
