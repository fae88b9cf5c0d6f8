"""Saving and resuming never lose or destroy work: the run state a
checkpoint carries is checked before the hook deletes by it, a non-finite
state is never saved over a good one, an interrupted validation is run
again on --resume, one run trains in a work dir at a time, a run neither
resumes nor replaces the checkpoints of a run with another model or
optimizer, and a full disk says what it needs."""
import errno
import json
import math
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from mmropim.engine import FiniteLossHook, SafeCheckpointHook
from mmropim.engine.hooks import safe_checkpoint_hook
from mmropim.engine.hooks.safe_checkpoint_hook import write_atomically
from mmropim.engine.run_lock import RunLock, WorkDirLockedError
from mmropim.engine.run_state import (check_deletable, check_run_state,
                                      find_resume_checkpoint)
from mmropim.utils.config_checks import check_config_keys
from crash_probe import CRASH_EXIT_CODE
from helpers import (REPO_ROOT, ROPIM_TINY_CFG, TESTS_DIR, assert_names,
                     fake_runner, logged_iterations, logged_scalars,
                     raises_naming, run_tool_process)

FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                        'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')


# ---------------------------------------------------------------- helpers
def resume_into(hook, runner, epoch, iteration):
    """As Runner.resume: the checkpoint's meta reaches the hook, the loop
    continues at its epoch / iteration."""
    hook.after_load_checkpoint(
        runner, dict(meta=dict(epoch=epoch, iter=iteration)))
    runner.epoch, runner.iter = epoch, iteration


def train_subprocess(config, work_dir, options, flags=(), wait=True):
    environment = dict(os.environ)
    environment['PYTHONPATH'] = os.pathsep.join(
        [TESTS_DIR, environment.get('PYTHONPATH', '')])
    command = [sys.executable, 'tools/train.py', str(config), '--work-dir',
               str(work_dir), *flags, '--cfg-options', *options]
    if not wait:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=environment,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    return run_tool_process(*command[1:], env=environment, timeout=600)


def pretrain_options(demo_root, epochs, keep=1):
    return [f'train_dataloader.dataset.data_root={demo_root}',
            'train_dataloader.dataset.indices=64',  # 2 batches an epoch
            f'train_cfg.max_epochs={epochs}',
            'default_hooks.checkpoint.interval=1',
            f'default_hooks.checkpoint.max_keep_ckpts={keep}']


def child_config(tmp_path, base, hooks):
    path = tmp_path / 'probed.py'
    path.write_text(
        f'_base_ = [{base!r}]\n'
        "custom_imports = dict(imports=['mmropim', 'crash_probe'])\n"
        f'custom_hooks = {hooks!r}\n')
    return str(path)


# ------------------------------------- the run state names what to delete
def test_resumed_best_ckpt_outside_the_run_is_never_deleted(tmp_path):
    victim = tmp_path / 'victim'
    victim.mkdir()
    (victim / 'precious.txt').write_text('not a checkpoint')
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    runner = fake_runner(work_dir, 'state_best')
    hook = SafeCheckpointHook(interval=1, save_best='accuracy/top1',
                              rule='greater')
    runner.message_hub.update_info('best_ckpt', str(victim))
    resume_into(hook, runner, epoch=2, iteration=4)
    hook.before_train(runner)
    hook.after_val_epoch(runner, {'accuracy/top1': 0.5})  # a new best
    assert (victim / 'precious.txt').exists()
    assert (work_dir / 'best_accuracy_top1_epoch_2.pth').exists()
    hook.after_train(runner)


def test_keep_ckpt_ids_of_another_folder_delete_nothing_here(tmp_path):
    """--resume of another run's checkpoint into a work dir that holds a
    file named like one of that run's checkpoints."""
    work_dir = tmp_path / 'other'
    work_dir.mkdir()
    (work_dir / 'epoch_1.pth').write_bytes(b'the user\'s own file')
    origin = str(tmp_path / 'original' / 'epoch_2.pth')
    runner = fake_runner(work_dir, 'state_ids', cfg=dict(load_from=origin))
    runner.message_hub.update_info('keep_ckpt_ids', [1, 2])
    runner.message_hub.update_info('last_ckpt', origin)
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=2)
    resume_into(hook, runner, epoch=2, iteration=4)
    hook.before_train(runner)
    hook.after_train_epoch(runner)  # writes epoch_3.pth, rotates
    assert (work_dir / 'epoch_3.pth').exists()
    assert (work_dir / 'epoch_1.pth').read_bytes() == b'the user\'s own file'
    assert 'keep_ckpt_ids' not in runner.message_hub.runtime_info or \
        runner.message_hub.get_info('keep_ckpt_ids') == [3]
    hook.after_train(runner)


def test_run_state_keeps_only_own_names(tmp_path):
    from mmengine.logging import MessageHub
    out_dir = str(tmp_path)
    hub = MessageHub('state_names')
    own = dict(best_ckpt=osp.join(out_dir, 'best_loss_epoch_3.pth'),
               last_ckpt=osp.join(out_dir, 'epoch_4.pth'),
               keep_ckpt_ids=[3, 4])
    for key, value in own.items():
        hub.update_info(key, value)
    assert check_run_state(hub, out_dir, 'epoch_{}.pth',
                           own['last_ckpt']) == []
    hostile = dict(best_ckpt_top1=str(tmp_path.parent),
                   last_ckpt=osp.join(out_dir, '..', 'epoch_4.pth'),
                   keep_ckpt_ids=['../x', 3])
    for key, value in hostile.items():
        hub.update_info(key, value)
    dropped = check_run_state(hub, out_dir, 'epoch_{}.pth',
                              own['last_ckpt'])
    # written in another folder (last_ckpt): its own-looking best_ckpt too
    assert sorted(dropped) == ['best_ckpt', 'best_ckpt_top1',
                               'keep_ckpt_ids', 'last_ckpt']
    hub.update_info('best_ckpt', own['best_ckpt'])
    hub.update_info('keep_ckpt_ids', [True, 2])  # bools are not steps
    hub.update_info('last_ckpt', own['last_ckpt'])
    assert check_run_state(hub, out_dir, 'epoch_{}.pth',
                           own['last_ckpt']) == ['keep_ckpt_ids']
    assert hub.get_info('best_ckpt') == own['best_ckpt']
    # read from another folder: none of its names is used here
    hub.update_info('keep_ckpt_ids', [3, 4])
    assert sorted(check_run_state(
        hub, out_dir, 'epoch_{}.pth',
        str(tmp_path.parent / 'epoch_4.pth'))) == ['best_ckpt',
                                                   'keep_ckpt_ids']


def test_deletion_outside_the_out_dir_is_refused(tmp_path):
    victim = tmp_path / 'victim.pth'
    victim.write_bytes(b'x')
    work_dir = tmp_path / 'run'
    runner = fake_runner(work_dir, 'state_guard')
    hook = SafeCheckpointHook(interval=1)
    hook.before_train(runner)
    for path in (str(victim), str(work_dir / 'notes.txt'),
                 str(work_dir / 'epoch_..' / 'x.pth')):
        with raises_naming(RuntimeError, path):
            hook.file_backend.remove(path)
    assert victim.exists()
    check_deletable(str(work_dir / 'epoch_3.pth'), str(work_dir),
                    'epoch_{}.pth')  # its own: allowed
    hook.after_train(runner)


@pytest.mark.parametrize('filename_tmpl', [
    # before: each save deleted the file it had just written (rc 0, no
    # checkpoint left)
    'latest.pth',
    # before: wrote over ../victim_1.pth outside the run
    '../victim_{}.pth', 'checkpoints/epoch_{}.pth',
    # names the rotation could not tell apart or recognize as its own
    'epoch_{}_{}.pth', 'epoch_{:.1}.pth', 'epoch_{!r}.pth', 'epoch_{x}.pth',
    ''])
def test_checkpoint_names_that_would_lose_or_misplace_files_are_refused(
        tmp_path, filename_tmpl):
    with raises_naming(ValueError, 'filename_tmpl', repr(filename_tmpl),
                       "'epoch_{}.pth'"):
        SafeCheckpointHook(interval=1, filename_tmpl=filename_tmpl)
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.default_hooks.checkpoint.filename_tmpl = filename_tmpl
    with raises_naming(ValueError, 'default_hooks.checkpoint.filename_tmpl',
                       repr(filename_tmpl)):
        check_config_keys(cfg)


@pytest.mark.parametrize('filename_tmpl,kept', [
    ('ropim_e{}.pth', 'ropim_e2.pth'),
    # integer formats MMEngine's own hook takes
    ('iter_{:06d}.pth', 'iter_000002.pth'), ('epoch_{0}.pth', 'epoch_2.pth'),
])
def test_a_step_numbered_checkpoint_name_rotates(tmp_path, filename_tmpl,
                                                 kept):
    SafeCheckpointHook(interval=1, filename_tmpl=None)  # MMEngine's default
    runner = fake_runner(tmp_path, 'state_tmpl')
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1,
                              filename_tmpl=filename_tmpl)
    hook.before_train(runner)
    for epoch in (1, 2):
        runner.epoch = epoch
        hook.save_checkpoint_at_step(runner, epoch, dict(epoch=epoch,
                                                         iter=epoch))
    assert set(os.listdir(tmp_path)) == {'last_checkpoint', kept,
                                         'run.lock'}
    hook.after_train(runner)


@pytest.mark.slow
def test_copied_work_dir_resumes_its_own_checkpoint(demo_root, tmp_path):
    """Copy a work dir and --resume the copy: its last_checkpoint names the
    original's file; the copy resumes its own and leaves the original as it
    was."""
    original = tmp_path / 'original'
    first = train_subprocess(ROPIM_TINY_CFG, original,
                             pretrain_options(demo_root, 2, keep=2))
    assert first.returncode == 0, first.stderr[-2000:]
    copy = tmp_path / 'copy'
    shutil.copytree(original, copy)
    before = {p: os.stat(original / p).st_mtime_ns
              for p in os.listdir(original)}
    resumed = train_subprocess(ROPIM_TINY_CFG, copy,
                               pretrain_options(demo_root, 3, keep=2) +
                               ['default_hooks.logger.interval=1'],
                               flags=['--resume'])
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-2000:]
    # what last_checkpoint names and the file resumed instead
    assert_names(log, str(copy / 'last_checkpoint'),
                 str(original / 'epoch_2.pth'), str(copy / 'epoch_2.pth'))
    assert logged_iterations(copy) == [5, 6]  # epoch 3 only
    assert {p: os.stat(original / p).st_mtime_ns
            for p in os.listdir(original)} == before
    assert (copy / 'last_checkpoint').read_text() == str(copy /
                                                         'epoch_3.pth')
    assert (copy / 'epoch_1.pth').exists()  # not this run's to rotate
    assert find_resume_checkpoint(str(copy)) == str(copy / 'epoch_3.pth')


# ------------------------------------------- a non-finite state is not saved
def test_nan_weights_are_not_saved_over_the_last_good_checkpoint(tmp_path):
    runner = fake_runner(tmp_path, 'finite_weights', epoch=1, iteration=4)
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1)
    hook.before_train(runner)
    hook.after_train_epoch(runner)  # epoch_2.pth, finite
    good = str(tmp_path / 'epoch_2.pth')
    runner.epoch, runner.iter = 2, 6
    with torch.no_grad():
        runner.model.weight[0, 0] = math.inf
    # where, the checkpoint not written and the one kept
    with raises_naming(FloatingPointError, 'epoch 3', 'iteration 6',
                       'epoch_3.pth', good):
        hook.after_train_epoch(runner)
    assert osp.exists(good) and not osp.exists(tmp_path / 'epoch_3.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == good
    hook.after_train(runner)


def test_nan_optimizer_state_is_not_saved_over_the_last_good_checkpoint(
        tmp_path):
    """Finite weights but a NaN AdamW moment: the next step makes the
    weights NaN, so that checkpoint would be poisoned on resume."""
    runner = fake_runner(tmp_path, 'finite_optimizer', epoch=1, iteration=4)
    optimizer = torch.optim.AdamW(runner.model.parameters())
    runner.model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    runner.optim_wrapper = SimpleNamespace(optimizer=optimizer)
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1)
    hook.before_train(runner)
    hook.after_train_epoch(runner)  # epoch_2.pth, finite
    good = str(tmp_path / 'epoch_2.pth')
    runner.epoch, runner.iter = 2, 6
    optimizer.state[runner.model.weight]['exp_avg'][0, 0] = math.nan
    with raises_naming(FloatingPointError, 'optimizer state', 'epoch 3',
                       'iteration 6', 'epoch_3.pth', good):
        hook.after_train_epoch(runner)
    optimizer.state[runner.model.weight]['exp_avg'][0, 0] = 0.0
    optimizer.param_groups[0]['lr'] = math.nan  # e.g. a scheduler's
    with raises_naming(FloatingPointError, 'optimizer state', "'lr'",
                       'epoch_3.pth', good):
        hook.after_train_epoch(runner)
    assert osp.exists(good) and not osp.exists(tmp_path / 'epoch_3.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == good
    hook.after_train(runner)


def test_save_reads_the_loss_record_first(tmp_path):
    """A NaN loss FiniteLossHook has recorded but not read yet (its
    interval) stops the save, naming the loss's own iteration and epoch."""
    loss_hook = FiniteLossHook(interval=10)
    runner = fake_runner(tmp_path, 'finite_losses', hooks=[loss_hook],
                         max_iters=100)
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1)
    hook.before_train(runner)
    for it in (1, 2):
        runner.iter = it - 1
        loss_hook.after_train_iter(runner, 0, outputs=dict(loss=1.0))
    runner.iter = 2
    hook.after_train_epoch(runner)  # epoch_1.pth
    runner.epoch = 1
    for it, loss in ((3, math.nan), (4, 1.0)):
        runner.iter = it - 1
        loss_hook.after_train_iter(runner, 0, outputs=dict(loss=loss))
    runner.iter = 4
    # the loss's own iteration and epoch, where training stopped, the
    # checkpoint not written and the one kept
    with raises_naming(FloatingPointError, 'iteration 3', 'epoch 2',
                       'iteration 4', 'epoch_2.pth',
                       str(tmp_path / 'epoch_1.pth')):
        hook.after_train_epoch(runner)
    assert osp.exists(tmp_path / 'epoch_1.pth')
    hook.after_train(runner)


def test_real_run_keeps_the_last_good_checkpoint_when_weights_go_nan(
        demo_root, tmp_path):
    """Weights NaN from iteration 3 (epoch 2 of 3, 2 iterations each);
    FiniteLossHook reads every 10 iterations, max_keep_ckpts=1."""
    config = child_config(tmp_path, ROPIM_TINY_CFG, [
        dict(type='FiniteLossHook', interval=10),
        dict(type='PoisonWeightsHook', iteration=3)])
    work_dir = tmp_path / 'work'
    result = train_subprocess(config, work_dir,
                              pretrain_options(demo_root, 3, keep=1))
    assert result.returncode != 0
    good = str(work_dir / 'epoch_1.pth')
    assert_names(result.stderr, 'FloatingPointError', 'iteration 3',
                 'epoch 2', good)
    assert osp.exists(good) and not osp.exists(work_dir / 'epoch_2.pth')
    assert (work_dir / 'last_checkpoint').read_text() == good
    assert torch.load(good, weights_only=True)['meta']['epoch'] == 1


# ------------------------------- an interrupted validation is not skipped
@pytest.mark.slow
def test_resume_runs_the_validation_a_kill_interrupted(demo_root, tmp_path):
    """kill -9 during the validation after the last epoch: --resume runs
    that validation (metrics, best checkpoint) instead of ending at once."""
    options = [
        f'train_dataloader.dataset.data_root={demo_root}',
        'train_dataloader.dataset.indices=64',
        f'val_dataloader.dataset.data_root={demo_root}',
        'val_dataloader.dataset.indices=32', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=1', 'model.backbone.init_cfg=None',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.save_best=accuracy/top1',
        'default_hooks.checkpoint.rule=greater']
    config = child_config(tmp_path, FINETUNE_CFG, [
        dict(type='CrashDuringValidationHook', epoch=2)])
    work_dir = tmp_path / 'work'
    crashed = train_subprocess(config, work_dir, options)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-2000:]
    assert osp.exists(work_dir / 'epoch_2.pth')
    resumed = train_subprocess(FINETUNE_CFG, work_dir, options,
                               flags=['--resume'])
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-2000:]
    # the resumed run validated: its metric is logged, its record written
    assert any('accuracy/top1' in row
               for row in logged_scalars(str(work_dir))[-1])
    record_path = work_dir / 'last_validation.json'
    record = json.loads(record_path.read_text())
    assert record['epoch'] == 2
    written = record_path.stat().st_mtime_ns
    # the record says it finished: a second --resume does not validate
    again = train_subprocess(FINETUNE_CFG, work_dir, options,
                             flags=['--resume'])
    assert again.returncode == 0
    assert record_path.stat().st_mtime_ns == written


# ----------------------------------------------- one run per work dir
@pytest.mark.slow
def test_second_run_in_a_busy_work_dir_stops_and_deletes_nothing(
        demo_root, tmp_path):
    work_dir = tmp_path / 'work'
    marker = tmp_path / 'first_is_busy'
    config = child_config(tmp_path, ROPIM_TINY_CFG, [
        dict(type='PauseAfterEpochHook', epoch=1, marker=str(marker))])
    first = train_subprocess(config, work_dir,
                             pretrain_options(demo_root, 2), wait=False)
    try:
        deadline = time.time() + 300
        while not marker.exists() and first.poll() is None \
                and time.time() < deadline:
            time.sleep(0.5)
        assert marker.exists(), 'the first run did not get to epoch 1'
        saving = work_dir / '.epoch_2.pth.x1y2.tmp'  # as if mid-save
        saving.write_bytes(b'half a checkpoint')
        entries = sorted(os.listdir(work_dir))
        second = train_subprocess(ROPIM_TINY_CFG, work_dir,
                                  pretrain_options(demo_root, 1))
        assert second.returncode != 0
        # the lock and the process holding it
        assert_names(second.stderr, 'WorkDirLockedError',
                     str(work_dir / 'run.lock'), str(first.pid))
        assert saving.exists()
        # refused before its runner wrote a config copy or a log folder
        assert sorted(os.listdir(work_dir)) == entries
    finally:
        first.kill()
        first.wait()
    # the first run was killed: its lock is stale and taken over
    resumed = train_subprocess(ROPIM_TINY_CFG, work_dir,
                               pretrain_options(demo_root, 2),
                               flags=['--resume'])
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-2000:]
    assert_names(log, str(work_dir / 'run.lock'), str(first.pid))
    assert not (work_dir / 'run.lock').exists()  # released at the end


def test_lock_of_a_live_process_is_refused_and_a_dead_ones_taken(tmp_path):
    import socket
    other = subprocess.Popen([sys.executable, '-c',
                              'import time; time.sleep(60)'])
    lock_path = tmp_path / 'run.lock'
    try:
        lock_path.write_text(json.dumps(
            dict(pid=other.pid, host=socket.gethostname(), started='now')))
        with raises_naming(WorkDirLockedError, str(lock_path),
                           str(other.pid)):
            RunLock(str(tmp_path)).acquire()
    finally:
        other.kill()
        other.wait()
    lock = RunLock(str(tmp_path))
    lock.acquire()  # the process is gone: taken over
    assert json.loads(lock_path.read_text())['pid'] == os.getpid()
    lock.release()
    assert not lock_path.exists()


# ------------------------------------------------------------ a full disk
def no_space(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_names_the_file_the_room_and_the_intact_one(
        tmp_path, monkeypatch):
    path = str(tmp_path / 'epoch_2.pth')
    write_atomically(b'old', path)
    monkeypatch.setattr(safe_checkpoint_hook.os, 'fsync', no_space)
    with pytest.raises(OSError) as error:
        write_atomically(b'n' * 5000, path)
    message = str(error.value)
    free = shutil.disk_usage(tmp_path).free
    assert error.value.errno == errno.ENOSPC
    assert_names(message, path, '5000', str(tmp_path))
    # the free space is the real one (within what other writers change)
    assert any(abs(int(number) - free) < 64 * 2**20
               for number in re.findall(r'\d+', message)), message
    with open(path, 'rb') as f:
        assert f.read() == b'old'


def test_full_disk_during_a_save_names_the_checkpoint_to_resume(
        tmp_path, monkeypatch):
    runner = fake_runner(tmp_path, 'full_disk')
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1)
    hook.before_train(runner)
    hook.after_train_epoch(runner)  # epoch_1.pth
    runner.epoch = 1
    monkeypatch.setattr(safe_checkpoint_hook.os, 'fsync', no_space)
    good = str(tmp_path / 'epoch_1.pth')
    # the checkpoint, its size and the one to resume from
    with raises_naming(OSError, 'epoch_2.pth', '1000', good):
        hook.after_train_epoch(runner)
    assert osp.exists(good)
    assert (tmp_path / 'last_checkpoint').read_text() == good
    monkeypatch.undo()
    hook.after_train(runner)


# ------------------------------------------ hostile names and run states
def test_names_through_a_link_out_of_the_work_dir_are_not_own(tmp_path):
    """``<work>/link/../best_*.pth`` reads as a name in the work dir, but
    the system follows ``link`` first: with ``link`` pointing to another
    folder it names a file beside that folder."""
    work_dir = tmp_path / 'work'
    (tmp_path / 'victim' / 'sub').mkdir(parents=True)
    work_dir.mkdir()
    os.symlink(tmp_path / 'victim' / 'sub', work_dir / 'link')
    for name in ('best_acc_epoch_1.pth', 'epoch_1.pth'):
        (tmp_path / 'victim' / name).write_text('precious')
    best = str(work_dir / 'link' / '..' / 'best_acc_epoch_1.pth')
    last = str(work_dir / 'link' / '..' / 'epoch_1.pth')
    runner = fake_runner(work_dir, 'state_link')
    runner.message_hub.update_info('best_ckpt', best)
    runner.message_hub.update_info('last_ckpt', last)
    hook = SafeCheckpointHook(interval=1, save_best='acc', rule='greater')
    resume_into(hook, runner, epoch=1, iteration=2)
    hook.before_train(runner)
    assert runner.message_hub.get_info('best_ckpt') is None
    hook.after_val_epoch(runner, {'acc': 0.5})  # a new best
    with raises_naming(RuntimeError, last):
        check_deletable(last, str(work_dir), 'epoch_{}.pth')
    assert (tmp_path / 'victim' / 'best_acc_epoch_1.pth').exists()
    hook.after_train(runner)


def test_run_state_is_checked_for_a_checkpoint_of_iteration_0(tmp_path):
    """A checkpoint whose meta says iteration 0 (written by hand) still
    carries a message hub: its keep_ckpt_ids from another folder must not
    rotate this folder's files away."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    for step in (1, 2):
        (work_dir / f'epoch_{step}.pth').write_bytes(b'an earlier run')
    origin = str(tmp_path / 'elsewhere' / 'epoch_3.pth')
    runner = fake_runner(work_dir, 'state_iter0',
                         cfg=dict(load_from=origin))
    runner.message_hub.update_info('keep_ckpt_ids', [1, 2, 3])
    runner.message_hub.update_info('last_ckpt', origin)
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1)
    resume_into(hook, runner, epoch=0, iteration=0)
    hook.before_train(runner)
    assert (work_dir / 'epoch_1.pth').exists()
    assert (work_dir / 'epoch_2.pth').exists()
    hook.after_train(runner)


def test_resume_with_fewer_kept_checkpoints_rotates_its_own(tmp_path):
    """max_keep_ckpts lowered from 3 to 2 on --resume: the oldest own
    checkpoint goes, as with MMEngine's hook, and rotation goes on."""
    for step in (1, 2, 3):
        (tmp_path / f'epoch_{step}.pth').write_bytes(b'w')
    runner = fake_runner(tmp_path, 'state_rotate')
    last = str(tmp_path / 'epoch_3.pth')
    runner.cfg = dict(load_from=last)
    runner.message_hub.update_info('keep_ckpt_ids', [1, 2, 3])
    runner.message_hub.update_info('last_ckpt', last)
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=2)
    resume_into(hook, runner, epoch=3, iteration=6)
    hook.before_train(runner)
    assert sorted(os.listdir(tmp_path)) == ['epoch_2.pth', 'epoch_3.pth',
                                            'run.lock']
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2, 3]
    hook.after_train_epoch(runner)  # epoch_4.pth; epoch_2.pth goes
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith('.pth')) \
        == ['epoch_3.pth', 'epoch_4.pth']
    hook.after_train(runner)


def test_lock_of_a_reused_process_id_is_taken_over(tmp_path):
    """The run that wrote the lock is dead and its process id now belongs
    to another live process (a restarted container reuses low ids): the
    process's start time tells them apart."""
    import socket
    other = subprocess.Popen([sys.executable, '-c',
                              'import time; time.sleep(60)'])
    try:
        (tmp_path / 'run.lock').write_text(json.dumps(dict(
            pid=other.pid, host=socket.gethostname(), started='then',
            process_start='1')))
        lock = RunLock(str(tmp_path))
        lock.acquire()
    finally:
        other.kill()
        other.wait()
    assert json.loads((tmp_path / 'run.lock').read_text())['pid'] == \
        os.getpid()
    lock.release()


@pytest.mark.parametrize('content', ['', '{"pid": 12', 'garbage\n'])
def test_unreadable_lock_is_taken_over_with_a_log_line(
        tmp_path, content, monkeypatch):
    """What a run killed while it created its lock (before locks were
    written whole) or a damaged file leaves names no live run: it is taken
    over."""
    from mmropim.engine import run_lock
    logged = []
    monkeypatch.setattr(run_lock, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    (tmp_path / 'run.lock').write_text(content)
    lock = RunLock(str(tmp_path))
    lock.acquire()
    assert json.loads((tmp_path / 'run.lock').read_text())['pid'] == \
        os.getpid()
    assert len(logged) == 1  # the lock and what it held
    assert_names(logged[0], str(tmp_path / 'run.lock'), repr(content))
    lock.release()


def test_the_lock_file_is_never_seen_half_written(tmp_path, monkeypatch):
    """A kill between creating the lock and writing it would leave an
    empty lock: the content is written first, then put in place."""
    from mmropim.engine import run_lock
    seen = []
    dump = run_lock.json.dump

    def kill_while_writing(owner, f):
        seen.append(osp.exists(tmp_path / 'run.lock'))
        raise KeyboardInterrupt  # the kill

    monkeypatch.setattr(run_lock.json, 'dump', kill_while_writing)
    with pytest.raises(KeyboardInterrupt):
        RunLock(str(tmp_path)).acquire()
    monkeypatch.setattr(run_lock.json, 'dump', dump)
    assert seen == [False] and not os.listdir(tmp_path)


def test_the_lock_is_never_written_through_a_planted_link(tmp_path):
    """The lock's content is written to run.lock.<pid>.new first: a link
    planted under that name (for the process id the run will have) is
    replaced, and the file it points to, outside the work dir, keeps its
    content; a name that cannot be removed is refused, naming it."""
    work_dir, outside = tmp_path / 'work', tmp_path / 'outside'
    work_dir.mkdir()
    outside.mkdir()
    important = outside / 'important.txt'
    important.write_text('keep me')
    planted = work_dir / f'run.lock.{os.getpid()}.new'
    planted.symlink_to(important)
    lock = RunLock(str(work_dir))
    lock.acquire()
    assert important.read_text() == 'keep me'
    assert os.listdir(outside) == ['important.txt']
    assert json.loads((work_dir / 'run.lock').read_text())['pid'] == \
        os.getpid()
    assert not osp.lexists(planted)
    lock.release()
    assert not os.listdir(work_dir)
    planted.mkdir()  # not removable by unlink: refused, left alone
    with raises_naming(WorkDirLockedError, str(planted)):
        RunLock(str(work_dir)).acquire()
    assert os.listdir(work_dir) == [planted.name]
    assert important.read_text() == 'keep me'


def test_a_run_writing_to_a_busy_out_dir_stops(tmp_path):
    """Work dirs a/exp and b/exp with one out_dir both write to
    out_dir/exp: the second run would delete the first one's files."""
    import socket
    other = subprocess.Popen([sys.executable, '-c',
                              'import time; time.sleep(60)'])
    final = tmp_path / 'shared' / 'exp'
    final.mkdir(parents=True)
    try:
        (final / 'run.lock').write_text(json.dumps(
            dict(pid=other.pid, host=socket.gethostname(), started='now')))
        runner = fake_runner(tmp_path / 'b' / 'exp', 'state_out_dir')
        hook = SafeCheckpointHook(interval=1,
                                  out_dir=str(tmp_path / 'shared'))
        with pytest.raises(WorkDirLockedError,
                           match=re.escape(str(final / 'run.lock'))):
            hook.before_train(runner)
    finally:
        other.kill()
        other.wait()
    assert not (tmp_path / 'b' / 'exp' / 'run.lock').exists()


def test_iteration_checkpoints_of_an_epoch_loop_know_when_val_follows(
        tmp_path):
    """by_epoch=False checkpoints in an epoch-based loop (10 iterations an
    epoch, validation after each epoch): only one at an epoch's end is
    followed by a validation, so only that one is validated on resume."""
    metas = []
    runner = fake_runner(tmp_path, 'state_iter_in_epochs', epoch=1,
                         val_loop=SimpleNamespace())
    runner.train_loop.dataloader = [None] * 10
    runner.save_checkpoint = lambda *args, meta, **kwargs: metas.append(meta)
    hook = SafeCheckpointHook(interval=5, by_epoch=False)
    hook.before_train(runner)
    for runner.iter in (14, 19):  # iterations 15 (mid-epoch) and 20
        hook.after_train_iter(runner, runner.iter % 10)
    assert [meta['validation_due'] for meta in metas] == [False, True]
    hook.after_train(runner)


def test_non_finite_weights_never_replace_the_best_checkpoint(tmp_path):
    """NaN outputs can still score (argmax of NaN logits is some class): a
    "better" score of non-finite weights must not delete the previous best
    checkpoint for a poisoned one."""
    runner = fake_runner(tmp_path, 'finite_best', iteration=2)
    hook = SafeCheckpointHook(interval=2, save_best='acc', rule='greater')
    hook.before_train(runner)
    runner.epoch = 1  # epoch 1 trained; no checkpoint (interval 2)
    hook.after_val_epoch(runner, {'acc': 0.1})
    best = tmp_path / 'best_acc_epoch_1.pth'
    assert best.exists()
    runner.epoch, runner.iter = 2, 4
    with torch.no_grad():
        runner.model.bias[0] = math.nan
    with raises_naming(FloatingPointError, 'epoch 2', 'iteration 4'):
        hook.after_val_epoch(runner, {'acc': 0.3})
    assert best.exists()
    assert not (tmp_path / 'best_acc_epoch_2.pth').exists()
    assert runner.message_hub.get_info('best_ckpt') == str(best)
    hook.after_train(runner)


def test_a_killed_validation_record_leaves_no_temporary(tmp_path):
    """A kill while last_validation.json is written leaves its temporary
    file; the next start removes it, as it does a killed save's."""
    left = tmp_path / '.last_validation.json.x1y2.tmp'
    left.write_text('{"epoch": 2')
    runner = fake_runner(tmp_path, 'state_record_left')
    hook = SafeCheckpointHook(interval=1)
    hook.before_train(runner)
    assert not left.exists()
    hook.after_train(runner)


def test_start_removes_only_its_own_temporaries(tmp_path):
    """A folder name holding '.pth.' does not make every hidden .tmp file
    in the work dir look like a killed save's."""
    work_dir = tmp_path / 'exp.pth.d'
    work_dir.mkdir()
    (work_dir / '.notes.tmp').write_text('the user\'s')
    runner = fake_runner(work_dir, 'state_tmp_names')
    hook = SafeCheckpointHook(interval=1)
    hook.before_train(runner)
    assert (work_dir / '.notes.tmp').exists()
    hook.after_train(runner)


def test_start_removes_temporaries_of_its_own_folder_only(tmp_path):
    """A work dir whose name is a glob pattern ('wd[1]' matches 'wd1')
    removes its own killed save's leftover, not the one of the folder the
    pattern matches (another run's save in progress)."""
    work_dir = tmp_path / 'wd[1]'
    work_dir.mkdir()
    other = tmp_path / 'wd1'
    other.mkdir()
    others = other / '.epoch_2.pth.x1y2.tmp'
    others.write_text('another run, mid-save')
    own = work_dir / '.epoch_2.pth.x1y2.tmp'
    own.write_text('killed')
    runner = fake_runner(work_dir, 'state_tmp_glob')
    hook = SafeCheckpointHook(interval=1)
    hook.before_train(runner)
    assert others.exists()
    assert not own.exists()
    hook.after_train(runner)


def test_a_lock_that_cannot_be_read_is_left_alone(tmp_path):
    (tmp_path / 'run.lock').mkdir()  # not a file: nothing to take over
    with raises_naming(WorkDirLockedError, str(tmp_path / 'run.lock')):
        RunLock(str(tmp_path)).acquire()
    assert os.listdir(tmp_path) == ['run.lock']


def test_an_unreadable_last_checkpoint_is_named(tmp_path):
    """Not UTF-8 (a truncated write, another tool's file): a bare
    UnicodeDecodeError naming no file."""
    from mmropim.engine.run_state import read_last_checkpoint
    (tmp_path / 'last_checkpoint').write_bytes(b'/x/\xff')
    with raises_naming(ValueError, str(tmp_path / 'last_checkpoint'),
                       'UTF-8'):
        read_last_checkpoint(str(tmp_path))


def test_claiming_a_file_or_a_planted_link_is_refused(tmp_path):
    """A work dir that is a file is named as such (not a bare
    FileExistsError); a symbolic link where the runner dumps its copy of
    the config would make it write through the link: refused before
    anything is written, the link's target untouched."""
    from mmropim.engine.run_state import claim_work_dir
    config = tmp_path / 'configs' / 'ropim.py'  # the config's own file
    config.parent.mkdir()
    config.write_text('')
    a_file = tmp_path / 'notes.txt'
    a_file.write_text('the user\'s')
    cfg = Config(dict(work_dir=str(a_file)), filename=str(config))
    with raises_naming(NotADirectoryError, str(a_file), '--work-dir'):
        claim_work_dir(cfg)
    assert a_file.read_text() == 'the user\'s'
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    target = tmp_path / 'precious.py'
    target.write_text('keep me')
    (work_dir / 'ropim.py').symlink_to(target)
    cfg = Config(dict(work_dir=str(work_dir)), filename=str(config))
    with raises_naming(FileExistsError, str(work_dir / 'ropim.py'),
                       str(target), 'symbolic link'):
        claim_work_dir(cfg)
    assert target.read_text() == 'keep me'
    assert sorted(os.listdir(work_dir)) == ['ropim.py']
    (work_dir / 'ropim.py').unlink()
    os.link(target, work_dir / 'ropim.py')  # a hard link: the same file
    with raises_naming(FileExistsError, str(work_dir / 'ropim.py'),
                       'hard link'):
        claim_work_dir(cfg)
    assert target.read_text() == 'keep me'


def test_a_lock_taken_before_the_runner_is_shared_by_the_hook(
        tmp_path, monkeypatch):
    """tools/train.py locks the work dir before it builds the runner; the
    checkpoint hook then shares that lock (no take-over of its own
    process's lock) and leaves it to the first holder."""
    from mmropim.engine import run_lock
    logged = []
    monkeypatch.setattr(run_lock, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    first = RunLock(str(tmp_path))
    first.acquire()
    runner = fake_runner(tmp_path, 'lock_shared')
    hook = SafeCheckpointHook(interval=1)
    hook.before_train(runner)
    hook.after_train(runner)
    assert logged == []
    assert json.loads((tmp_path / 'run.lock').read_text())['pid'] == \
        os.getpid()
    first.release()
    assert not (tmp_path / 'run.lock').exists()


def test_only_the_launchers_main_process_claims_the_work_dir(
        tmp_path, monkeypatch):
    from mmropim.engine.run_state import claim_work_dir
    cfg = Config(dict(work_dir=str(tmp_path / 'work'), launcher='pytorch'))
    monkeypatch.setenv('RANK', '1')
    assert claim_work_dir(cfg) is None
    assert not (tmp_path / 'work').exists()
    monkeypatch.setenv('RANK', '0')
    lock = claim_work_dir(cfg)
    assert (tmp_path / 'work' / 'run.lock').exists()
    lock.release()


# ------------------------------ a run does not continue or replace another
def tiny_run_config(work_dir, **changes):
    """A run config with what identifies a run (model, optimizer) and what
    may change between its starts (work dir, schedule, hooks)."""
    cfg = Config(dict(
        model=dict(type='TinyNet', depth=2, backbone=dict(
            init_cfg=dict(type='Pretrained', checkpoint='pre.pth'))),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.0015,
                                          betas=(0.9, 0.95))),
        train_cfg=dict(max_epochs=2), work_dir=str(work_dir),
        default_hooks=dict(checkpoint=dict(interval=1))))
    cfg.merge_from_dict(changes)
    return cfg


def write_run_checkpoints(work_dir, cfg, epochs=(1, 2)):
    """Checkpoints as a run of ``cfg`` leaves them: meta['cfg'] (MMEngine's
    record of the config) and last_checkpoint naming the last one."""
    os.makedirs(work_dir, exist_ok=True)
    for epoch in epochs:
        path = osp.join(work_dir, f'epoch_{epoch}.pth')
        torch.save(dict(meta=dict(cfg=cfg.pretty_text, epoch=epoch,
                                  iter=2 * epoch), state_dict={}), path)
    (work_dir / 'last_checkpoint').write_text(path)
    return path


@pytest.mark.slow
def test_a_run_with_another_optimizer_neither_replaces_nor_resumes(
        demo_root, tmp_path):
    """Run A in a work dir, then there a fresh run B with another learning
    rate: B stops before it writes anything (config copy, log folder),
    naming the entry, both values and the fix, and A's checkpoints and
    last_checkpoint stay; --resume with that learning rate stops too (it
    would continue A's weights and optimizer state under B's config)."""
    work_dir = tmp_path / 'work'
    first = train_subprocess(ROPIM_TINY_CFG, work_dir,
                             pretrain_options(demo_root, 1))
    assert first.returncode == 0, first.stderr[-2000:]
    before = {p: os.stat(work_dir / p).st_mtime_ns
              for p in os.listdir(work_dir)}
    other_lr = ['optim_wrapper.optimizer.lr=0.05']
    fresh = train_subprocess(ROPIM_TINY_CFG, work_dir,
                             pretrain_options(demo_root, 1) + other_lr)
    assert fresh.returncode != 0, fresh.stdout[-2000:]
    assert_names(fresh.stderr, 'RunConfigMismatchError',
                 f'{work_dir / "last_checkpoint"} names '
                 f'{work_dir / "epoch_1.pth"}',
                 'optim_wrapper.optimizer.lr: 0.0015 in the checkpoint, '
                 '0.05 now', '(epoch_1.pth)', 'own --work-dir', '--resume')
    resumed = train_subprocess(ROPIM_TINY_CFG, work_dir,
                               pretrain_options(demo_root, 2) + other_lr,
                               flags=['--resume'])
    assert resumed.returncode != 0, resumed.stdout[-2000:]
    assert_names(resumed.stderr, 'RunConfigMismatchError',
                 f'--resume of {work_dir / "epoch_1.pth"}',
                 'optim_wrapper.optimizer.lr: 0.0015 in the checkpoint, '
                 '0.05 now', 'the config that wrote it')
    assert {p: os.stat(work_dir / p).st_mtime_ns
            for p in os.listdir(work_dir)} == before


def test_a_fresh_run_of_the_same_run_names_what_it_replaces(
        tmp_path, monkeypatch):
    """Rerunning the same config (the demo script again) goes on with a
    warning naming the checkpoints; what may change between starts is not
    compared, the pre-trained initialization only on resume."""
    from mmropim.engine import run_state
    work_dir = tmp_path / 'work'
    write_run_checkpoints(work_dir, tiny_run_config(work_dir))
    logged = []
    monkeypatch.setattr(run_state, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    again = tiny_run_config(work_dir,
                            **{'train_cfg.max_epochs': 9,
                               'default_hooks.checkpoint.interval': 3,
                               'resume': False, 'launcher': 'pytorch'})
    run_state.check_work_dir_run(again)
    assert len(logged) == 1
    assert_names(logged[0], 'earlier run with this model and optimizer',
                 '(epoch_1.pth, epoch_2.pth)', 'Add --resume',
                 'own --work-dir')
    other_init = tiny_run_config(
        work_dir, **{'model.backbone.init_cfg.checkpoint': 'other.pth'})
    with raises_naming(RuntimeError, "model.backbone.init_cfg.checkpoint: "
                       "'pre.pth' in the checkpoint, 'other.pth' now"):
        run_state.check_work_dir_run(other_init)
    other_init.resume = True  # the checkpoint's weights replace the init
    run_state.check_work_dir_run(other_init)


def test_resume_into_the_work_dir_of_another_run_is_refused(tmp_path):
    """--resume of another work dir's checkpoint into a work dir that
    holds a run of another model would replace that run's epoch_N.pth and
    move its last_checkpoint: refused as a fresh run there would be, by
    tools/train.py and by the hook (MMPretrain's own train.py); into an
    empty work dir, or its own, it goes on."""
    from mmropim.engine import run_state
    here = tmp_path / 'here'
    write_run_checkpoints(here, tiny_run_config(here))
    there = tmp_path / 'there'
    source = write_run_checkpoints(
        there, tiny_run_config(there, **{'model.depth': 3}), epochs=(1, ))
    deeper = tiny_run_config(here, **{'model.depth': 3})
    deeper.merge_from_dict(dict(resume=True, load_from=source))
    with raises_naming(RuntimeError, f'--resume of {source}',
                       f'{here / "last_checkpoint"} names '
                       f'{here / "epoch_2.pth"}',
                       'model.depth: 2 in the checkpoint, 3 now',
                       '(epoch_1.pth, epoch_2.pth)', 'own --work-dir'):
        run_state.check_work_dir_run(deeper)
    runner = fake_runner(here, 'resume_elsewhere', cfg=deeper)
    hook = SafeCheckpointHook(interval=1)
    hook.after_load_checkpoint(runner, dict(
        torch.load(source, weights_only=True),
        state_dict=runner.model.state_dict()))
    with raises_naming(RuntimeError, f'--resume of {source}',
                       'model.depth: 2 in the checkpoint, 3 now'):
        hook.before_train(runner)
    assert sorted(os.listdir(here)) == ['epoch_1.pth', 'epoch_2.pth',
                                        'last_checkpoint']
    empty = tmp_path / 'empty'
    run_state.check_work_dir_run(
        tiny_run_config(empty, **{'model.depth': 3, 'resume': True,
                                  'load_from': source}))
    run_state.check_work_dir_run(
        tiny_run_config(there, **{'model.depth': 3, 'resume': True,
                                  'load_from': source}))


@pytest.mark.parametrize('how', ['copied_in', 'linked_in',
                                 'no_last_checkpoint'])
def test_resume_cannot_be_smuggled_past_the_work_dir_check(tmp_path, how):
    """The other run's checkpoint copied or linked into the work dir first
    (it was then 'this work dir's own'), or a work dir that lost its
    last_checkpoint: the run there is still found and compared."""
    from mmropim.engine import run_state
    here = tmp_path / 'here'
    write_run_checkpoints(here, tiny_run_config(here))
    there = tmp_path / 'there'
    source = write_run_checkpoints(
        there, tiny_run_config(there, **{'model.depth': 3}), epochs=(1, ))
    resumed = source
    if how == 'copied_in':
        resumed = str(here / 'a.pth')
        shutil.copy(source, resumed)
    elif how == 'linked_in':
        resumed = str(here / 'link.pth')
        os.symlink(source, resumed)
    else:
        (here / 'last_checkpoint').unlink()
    deeper = tiny_run_config(here, **{'model.depth': 3, 'resume': True,
                                      'load_from': resumed})
    with raises_naming(RuntimeError, f'--resume of {resumed}',
                       str(here / 'epoch_2.pth'),
                       'model.depth: 2 in the checkpoint, 3 now'):
        run_state.check_work_dir_run(deeper)


@pytest.mark.parametrize('files, hook_cfg', [
    (('epoch_1.pth', ), {}),
    (('iter_40.pth', 'best_acc_iter_40.pth'), {}),
    (('best_acc_epoch_1.pth', ), {}),
    (('ckpt_1.pth', ), dict(filename_tmpl='ckpt_{}.pth')),
    (('epoch_1.pth', ), dict(out_dir='OUT')),
], ids=['epoch', 'iter-and-best', 'best', 'filename-tmpl', 'out-dir'])
def test_resume_without_last_checkpoint_keeps_the_run_checkpoints(
        tmp_path, files, hook_cfg):
    """A run killed after its first checkpoint and before its first
    last_checkpoint: --resume without a path (tools/train.py; the hook for
    other entry points) would start afresh and replace the checkpoint. It
    stops before anything is written, naming the checkpoints and how to go
    on; nothing is deleted. A work dir without checkpoints starts. The
    checkpoints are found where the hook's out_dir puts them and by its
    filename_tmpl."""
    from mmropim.engine import run_state
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    hook_cfg = dict(hook_cfg)
    folder = work_dir
    if 'out_dir' in hook_cfg:
        hook_cfg['out_dir'] = str(tmp_path / 'out')
        folder = tmp_path / 'out' / 'work'  # MMEngine: out_dir/<work dir>
        folder.mkdir(parents=True)
    for name in files:
        torch.save(dict(meta=dict(epoch=1), state_dict={}),
                   str(folder / name))
    before = {name: (folder / name).read_bytes() for name in files}
    latest = str(folder / files[0])
    auto = tiny_run_config(work_dir, resume=True)
    auto.default_hooks.checkpoint.update(hook_cfg)
    assert find_resume_checkpoint(str(work_dir)) is None
    with raises_naming(run_state.UnnamedCheckpointsError, *files,
                       str(work_dir / 'last_checkpoint'),
                       f'--resume {latest}', '--work-dir'):
        run_state.claim_work_dir(auto)
    hook = SafeCheckpointHook(interval=1, **hook_cfg)
    with raises_naming(run_state.UnnamedCheckpointsError, *files,
                       f'--resume {latest}'):
        hook.before_train(fake_runner(work_dir, 'auto_resume', cfg=auto))
    assert {name: (folder / name).read_bytes()
            for name in os.listdir(folder)} == before
    empty = tmp_path / 'empty'
    run_state.claim_work_dir(tiny_run_config(empty, resume=True)).release()
    assert not os.listdir(empty)


def test_the_checkpoint_hook_checks_the_run_for_other_entry_points(
        tmp_path):
    """MMPretrain's own tools/train.py builds the runner at once: the hook
    refuses a resumed checkpoint of another model when it is loaded (before
    its weights and optimizer state are) and a fresh run over such a run's
    checkpoints when training starts."""
    work_dir = tmp_path / 'work'
    path = write_run_checkpoints(work_dir, tiny_run_config(work_dir))
    deeper = tiny_run_config(work_dir, **{'model.depth': 3})
    checkpoint = torch.load(path, weights_only=True)
    deeper.merge_from_dict(dict(resume=True, load_from=path))
    runner = fake_runner(work_dir, 'identity_resume', cfg=deeper)
    with raises_naming(RuntimeError, f'--resume of {path}',
                       'model.depth: 2 in the checkpoint, 3 now'):
        SafeCheckpointHook(interval=1).after_load_checkpoint(runner,
                                                             checkpoint)
    runner = fake_runner(work_dir, 'identity_fresh',
                         cfg=tiny_run_config(work_dir, **{'model.depth': 3}))
    hook = SafeCheckpointHook(interval=1)
    with raises_naming(RuntimeError, 'model.depth: 2 in the checkpoint, '
                       '3 now', 'another run'):
        hook.before_train(runner)
    assert sorted(os.listdir(work_dir)) == ['epoch_1.pth', 'epoch_2.pth',
                                            'last_checkpoint']


def test_resume_may_change_how_gradients_are_clipped_and_accumulated(
        tmp_path):
    """Clipping, gradient accumulation and the AMP loss scale are no part of
    the optimizer state and take effect when a run resumes: lowering
    clip_grad after a NaN (the error's advice: resume) is not another run.
    An optimizer setting that the resumed state restores is refused, saying
    so and how to start from the weights instead."""
    from mmropim.engine.run_state import (RunConfigMismatchError,
                                          check_resumed_config)
    written = tiny_run_config(tmp_path, **{
        'optim_wrapper.clip_grad': dict(max_norm=5.0)})
    meta = dict(cfg=written.pretty_text)
    check_resumed_config(meta, tiny_run_config(tmp_path, **{
        'optim_wrapper.clip_grad': dict(max_norm=1.0),
        'optim_wrapper.accumulative_counts': 2,
        'optim_wrapper.loss_scale': 'dynamic'}), 'epoch_2.pth')
    with raises_naming(RunConfigMismatchError,
                       'optim_wrapper.optimizer.lr: 0.0015 in the checkpoint',
                       'restore', 'load_from='):
        check_resumed_config(meta, tiny_run_config(tmp_path, **{
            'optim_wrapper.optimizer.lr': 0.05}), 'epoch_2.pth')


@pytest.mark.parametrize('kind', ['fifo', 'device-link', 'big'])
def test_a_lock_that_is_no_lock_file_is_refused_at_once(tmp_path, kind):
    """run.lock as a FIFO (reading it blocked for ever), a link to
    /dev/zero (read without end) or a file far larger than a lock: the
    run stops, naming it; nothing is taken over or written."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    lock_path = work_dir / 'run.lock'
    if kind == 'fifo':
        os.mkfifo(lock_path)
    elif kind == 'device-link':
        lock_path.symlink_to('/dev/zero')
    else:
        lock_path.write_bytes(b'{' + b' ' * (1 << 20) + b'}')
    with raises_naming(WorkDirLockedError, str(lock_path), 'remove it'):
        RunLock(str(work_dir)).acquire()
    assert os.listdir(work_dir) == ['run.lock']
