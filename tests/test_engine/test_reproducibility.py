"""Same seed, same losses; resume continues the curve exactly; a NaN loss
stops the run with an error naming the iteration."""
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from mmropim.engine import FiniteLossHook
from crash_probe import STOP_EXIT_CODE
from helpers import (ITERS_PER_EPOCH, PRMIM_TINY_CFG, REPO_ROOT,
                     ROPIM_TINY_CFG, TESTS_DIR, assert_names, logged_scalars,
                     raises_naming, run_tool)

BATCH = 32  # of the tiny configs


def fake_runner(iteration, max_iters=100):
    return SimpleNamespace(
        iter=iteration - 1, max_iters=max_iters, epoch=0, work_dir='wd')


def test_hook_names_the_first_bad_iteration():
    hook = FiniteLossHook(interval=5)
    for it in range(1, 5):
        loss = float('nan') if it == 3 else 1.0
        hook.after_train_iter(fake_runner(it), 0,
                              outputs=dict(loss=torch.tensor(loss)))
    # the first bad iteration and the one training stopped at
    with raises_naming(FloatingPointError, 'NaN', 'iteration 3',
                       'iteration 5'):
        hook.after_train_iter(fake_runner(5), 0,
                              outputs=dict(loss=torch.tensor(1.0)))


def test_hook_is_silent_while_the_loss_is_finite():
    hook = FiniteLossHook(interval=1)
    for it in range(1, 4):
        hook.after_train_iter(fake_runner(it), 0, outputs=dict(loss=0.5))
    with pytest.raises(FloatingPointError, match='iteration 4'):
        hook.after_train_iter(fake_runner(4), 0,
                              outputs=dict(loss=math.inf))


def test_hook_stops_a_dead_loss_after_n_zero_iterations():
    hook = FiniteLossHook(interval=4, max_zero_loss_iters=3)
    # two zeros, a real loss, then zeros from iteration 4 on; the flag is
    # read at iteration 4 (one zero so far) and 8
    for it, loss in enumerate([0., 0., 0.7, 0., 0., 0., 0.], start=1):
        hook.after_train_iter(fake_runner(it), 0,
                              outputs=dict(loss=torch.tensor(loss)))
    with raises_naming(RuntimeError, 'iterations 4 to 6', 'iteration 8'):
        hook.after_train_iter(fake_runner(8), 0,
                              outputs=dict(loss=torch.tensor(0.)))


def test_hook_lets_short_zero_runs_and_unset_option_pass():
    patient = FiniteLossHook(interval=1, max_zero_loss_iters=3)
    default = FiniteLossHook(interval=1)
    for it, loss in enumerate([0., 0., 0.5, 0., 0., 0.5], start=1):
        for hook in (patient, default):
            hook.after_train_iter(fake_runner(it), 0,
                                  outputs=dict(loss=torch.tensor(loss)))
    for it in range(7, 20):
        default.after_train_iter(fake_runner(it), 0,
                                 outputs=dict(loss=torch.tensor(0.)))
    with raises_naming(ValueError, 'max_zero_loss_iters', '0'):
        FiniteLossHook(max_zero_loss_iters=0)


def test_our_runtime_stops_dead_losses():
    from mmengine.config import Config
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    hook, = [h for h in cfg.custom_hooks if h.type == 'FiniteLossHook']
    assert hook.max_zero_loss_iters >= 1


def test_resume_continues_the_loss_curve(pretrain_run):
    before, after = logged_scalars(pretrain_run['work_dir'])[:2]
    before = [row['loss'] for row in before if 'loss' in row]
    after = [row['loss'] for row in after if 'loss' in row]
    assert before[-1] < before[0]
    # the resumed run starts where the first one stopped, not from scratch
    assert abs(after[0] - before[-1]) < 0.5 * (before[0] - before[-1])
    assert len(after) == 2 * ITERS_PER_EPOCH // 7


def losses_by_iteration(work_dir):
    return [(row['iter'], row['loss']) for run in logged_scalars(work_dir)
            for row in run if 'loss' in row]


@pytest.mark.slow
@pytest.mark.parametrize('config', [ROPIM_TINY_CFG, PRMIM_TINY_CFG],
                         ids=['ropim', 'prmim'])
def test_resume_is_exact(config, demo_root, tmp_path):
    """4 epochs straight vs 2 epochs, a kill, and --resume for 2 more (same
    schedule): identical losses at every iteration. Sketches / masks are
    drawn in the model and in 2 data-loader workers; both streams must
    continue exactly. (The split run's first half equal to the straight run
    is also the same-seed, same-losses check.) Epochs of 3 batches."""
    options = [f'train_dataloader.dataset.data_root={demo_root}',
               f'train_dataloader.dataset.indices={3 * BATCH}',
               'train_cfg.max_epochs=4', 'default_hooks.logger.interval=1',
               'default_hooks.checkpoint.interval=1']
    straight = str(tmp_path / 'straight')
    run_tool('tools/train.py', config, '--work-dir', straight,
             '--cfg-options', *options)
    stopping = tmp_path / 'stopping.py'
    stopping.write_text(
        f'_base_ = [{config!r}]\n'
        "custom_imports = dict(imports=['mmropim', 'crash_probe'])\n"
        "custom_hooks = [dict(type='StopAfterEpochHook', epoch=2)]\n")
    split = str(tmp_path / 'split')
    environment = dict(os.environ, PYTHONPATH=TESTS_DIR)
    stopped = subprocess.run(
        [sys.executable, 'tools/train.py', str(stopping), '--work-dir', split,
         '--cfg-options', *options], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=600, env=environment)
    assert stopped.returncode == STOP_EXIT_CODE, stopped.stderr[-2000:]
    run_tool('tools/train.py', config, '--work-dir', split, '--resume',
             '--cfg-options', *options)
    expected = losses_by_iteration(straight)
    assert len(expected) == 4 * 3
    assert losses_by_iteration(split) == expected


def test_nan_loss_stops_the_real_run_with_the_iteration(demo_root, tmp_path):
    result = subprocess.run([
        sys.executable, 'tools/train.py', ROPIM_TINY_CFG, '--work-dir',
        str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_root}',
        'train_cfg.max_epochs=1', 'optim_wrapper.optimizer.lr=1e30',
        'custom_hooks.0.interval=1'
    ], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert_names(result.stderr, 'FloatingPointError', 'NaN', 'iteration')


def _hook_on_rank(rank, init_file, losses_by_rank, out_dir):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    hook = FiniteLossHook(interval=2, max_zero_loss_iters=2)
    outcome = 'trained'
    try:
        for it, loss in enumerate(losses_by_rank[rank], start=1):
            hook.after_train_iter(fake_runner(it), 0,
                                  outputs=dict(loss=torch.tensor(loss)))
    except (FloatingPointError, RuntimeError) as error:
        outcome = f'{type(error).__name__}: {error}'
    with open(f'{out_dir}/rank{rank}.txt', 'w') as f:
        f.write(outcome)
    dist.destroy_process_group()


@pytest.mark.slow  # two processes
@pytest.mark.parametrize('losses, expected', [
    ([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, float('nan'), 1.0]],
     'FloatingPointError: the loss became NaN or inf at iteration 3'),
    ([[0.5, 0.5, 0.5, 0.5], [0.5, 0.0, 0.0, 0.0]],
     'RuntimeError: the loss was exactly 0 for 2 consecutive iterations '
     '(iterations 2 to 3)'),
])
def test_every_rank_stops_when_one_rank_goes_bad(tmp_path, losses, expected):
    """Under DDP a bad loss on one rank must stop all of them (a rank that
    went on would wait in the next all-reduce until the timeout)."""
    import torch.multiprocessing as mp
    mp.spawn(_hook_on_rank, nprocs=2,
             args=(str(tmp_path / 'init'), losses, str(tmp_path)))
    for rank in (0, 1):
        outcome = (tmp_path / f'rank{rank}.txt').read_text()
        assert outcome.startswith(expected), (rank, outcome)


class RandomDraws(torch.utils.data.Dataset):
    """Each item is what the worker's numpy, Python and torch streams give
    next, as a mask or crop drawn in a pipeline would be."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        import random

        import numpy as np
        return (float(np.random.rand()), random.random(),
                float(torch.rand(())))


def draws_per_epoch(worker_init_fn, epochs=2, seed=0):
    torch.manual_seed(seed)  # the main process, as the runner seeds it
    loader = torch.utils.data.DataLoader(
        RandomDraws(), batch_size=2, num_workers=2,
        worker_init_fn=worker_init_fn, persistent_workers=False)
    return [[tuple(x.tolist() for x in batch) for batch in loader]
            for _ in range(epochs)]


def test_workers_draw_new_streams_each_epoch_and_reproducibly(monkeypatch):
    from functools import partial

    from mmengine.dataset import worker_init_fn as mmengine_init

    from mmropim.datasets import worker_init_per_epoch
    monkeypatch.delenv('RANK', raising=False)
    # MMEngine's default seeds each worker alike every epoch: a replay
    replayed = draws_per_epoch(
        partial(mmengine_init, num_workers=2, rank=0, seed=0))
    assert replayed[0] == replayed[1]
    ours = draws_per_epoch(worker_init_per_epoch)
    assert ours[0] != ours[1]
    assert all(a != b for a, b in zip(ours[0], ours[1]))
    assert draws_per_epoch(worker_init_per_epoch) == ours  # reproducible
    monkeypatch.setenv('RANK', '1')
    assert draws_per_epoch(worker_init_per_epoch) != ours  # ranks differ


def test_random_states_round_trip_through_a_safe_load(tmp_path):
    import random

    import numpy as np

    from mmropim.utils.plain_state import from_plain, to_plain
    from mmropim.utils.random_states import (get_random_states,
                                             set_random_states)
    np.random.normal()  # leaves a cached Gaussian in numpy's state
    random.gauss(0, 1)
    path = str(tmp_path / 'states.pth')
    torch.save(to_plain(dict(states=get_random_states())), path)

    def draws():
        return (torch.rand(3).tolist(), np.random.rand(3).tolist(),
                np.random.normal(), random.random(), random.gauss(0, 1))

    expected = draws()
    draws()
    set_random_states(
        from_plain(torch.load(path, weights_only=True))['states'])
    assert draws() == expected
