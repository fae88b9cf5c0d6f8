"""Tasks side by side (mmropim.evaluation.side_by_side): results in the
order given, the first failure or Ctrl-C kills the running processes and
starts nothing more, processes limited to a job's threads, seeded draws
that other threads do not disturb."""
import os
import signal
import sys
import threading
import time

import pytest
import torch

from mmropim.evaluation import (StoppableProcesses, job_environment,
                                run_side_by_side, seeded)


def test_rows_run_side_by_side_and_come_back_in_table_order():
    """jobs=2: two tasks run at once (each waits for the other at a
    barrier, which one at a time would never pass); the results keep the
    order of the tasks, not the order they finish in."""
    barrier = threading.Barrier(2, timeout=10)

    def row(key, wait):
        def task():
            barrier.wait()
            time.sleep(wait)
            return key
        return task

    results = run_side_by_side(
        {'slow': row('slow', 0.3), 'fast': row('fast', 0.0)}, jobs=2)
    assert list(results.items()) == [('slow', 'slow'), ('fast', 'fast')]
    # one at a time, the first task waits at the barrier alone
    barrier = threading.Barrier(2, timeout=0.5)
    with pytest.raises(threading.BrokenBarrierError):
        run_side_by_side({'a': row('a', 0.0), 'b': row('b', 0.0)}, jobs=1)


def test_a_failed_row_cancels_the_rows_not_started():
    started = []

    def task(key):
        def run():
            started.append(key)
            if key == 'b':
                raise RuntimeError('b failed')
            return key
        return run

    with pytest.raises(RuntimeError, match='b failed'):
        run_side_by_side({key: task(key) for key in 'abcdef'}, jobs=1)
    assert started == ['a', 'b']


def test_training_processes_get_the_thread_count_of_a_job(tmp_path):
    count = ('import sys, torch; '
             'sys.stderr.write(str(torch.get_num_threads()))')
    processes = StoppableProcesses()
    # (torch starts no more threads than cores here)
    for threads in sorted({1, min(2, os.cpu_count())}):
        returncode, stderr = processes.run([sys.executable, '-c', count],
                                           threads)
        assert (returncode, stderr.strip()) == (0, str(threads))
    # 0: the inherited environment, untouched
    assert job_environment(0) == dict(os.environ)
    # in the folder asked for
    where = 'import os, sys; sys.stderr.write(os.getcwd())'
    returncode, stderr = processes.run([sys.executable, '-c', where],
                                       cwd=str(tmp_path))
    assert (returncode, stderr) == (0, os.path.realpath(tmp_path))


def assert_stop_ends_training(processes, stop, expected, match=None):
    """Run three tasks side by side (jobs=2): one whose process would run
    for a minute, with a worker process of its own holding the same stderr
    (as data workers do); one that calls ``stop`` once that process runs;
    one queued after them. ``expected`` is raised well within the minute
    and the queued task never starts."""
    worker = [sys.executable, '-c', 'import time; time.sleep(60)']
    training = ('import subprocess, time; '
                f'subprocess.Popen({worker!r}); time.sleep(60)')
    started = threading.Event()
    ran = []

    def sleeper():
        started.set()
        returncode, _ = processes.run([sys.executable, '-c', training])
        return returncode

    def stopper():
        started.wait(10)
        time.sleep(0.5)  # the sleeper's process is running
        return stop()

    tick = time.time()
    with pytest.raises(expected, match=match):
        run_side_by_side({
            'sleeper': sleeper,
            'stopper': stopper,
            'later': lambda: ran.append('later')
        }, jobs=2, processes=processes)
    assert time.time() - tick < 20  # not the sleeper's minute
    assert ran == []


def test_a_failure_kills_the_running_training_and_starts_no_more():
    processes = StoppableProcesses()

    def failing():
        raise RuntimeError('row failed')

    assert_stop_ends_training(processes, failing, RuntimeError, 'row failed')
    with pytest.raises(RuntimeError, match='benchmark is stopping'):
        processes.run(['true'])


def test_ctrl_c_kills_the_running_training_and_starts_no_more():

    def interrupt():
        # Ctrl-C: SIGINT to the main thread, waiting on the tasks
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(1)  # a task still at work when Ctrl-C comes
        return 'done'

    # Python's Ctrl-C handler, as in a terminal (a shell's background job,
    # such as a CI step, inherits SIGINT ignored)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert_stop_ends_training(StoppableProcesses(), interrupt,
                                  KeyboardInterrupt)
    finally:
        signal.signal(signal.SIGINT, handler)


def draws(seed):
    """Two draws from torch's global generator seeded with ``seed``, with
    time between them for another thread to draw."""
    with seeded(seed):
        first = torch.randn(3)
        time.sleep(0.05)
        return torch.cat([first, torch.randn(3)])


def test_seeded_draws_do_not_depend_on_threads_drawing_beside():
    alone = {seed: draws(seed) for seed in (0, 1)}
    assert not torch.equal(alone[0], alone[1])
    for _ in range(3):
        beside = {}
        threads = [
            threading.Thread(target=lambda s=seed: beside.update(
                {s: draws(s)})) for seed in (0, 1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for seed in (0, 1):
            torch.testing.assert_close(beside[seed], alone[seed], rtol=0,
                                       atol=0)
