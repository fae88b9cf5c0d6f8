"""Tasks run side by side in threads, each of which may start processes:
the first failure (or Ctrl-C) kills the running processes and starts no
further task; the results come back in the order the tasks were given."""
import contextlib
import os
import signal
import subprocess
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Callable, Dict, Hashable, Optional, Sequence, Tuple

import torch

# torch's global random state (and whatever else seeded draws share, e.g.
# MMEngine's default scope), taken by ``seeded``
_GLOBAL_STATE_LOCK = threading.Lock()


@contextlib.contextmanager
def seeded(seed: int):
    """Seed torch's global generator with ``seed`` and hold a lock that every
    other ``seeded`` block waits for: what the block draws comes from
    ``seed`` whatever other threads run beside it (they must draw inside
    ``seeded`` too)."""
    with _GLOBAL_STATE_LOCK:
        torch.manual_seed(seed)
        yield


def job_environment(threads: int) -> dict:
    """The environment of a process limited to ``threads`` intra-op threads
    (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``); 0: the inherited one."""
    env = dict(os.environ)
    if threads:
        for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            env[name] = str(threads)
    return env


class StoppableProcesses:
    """The processes of tasks that run side by side. ``stop()`` (on a task's
    failure or Ctrl-C) kills the running ones and refuses new ones: nothing
    goes on after the work has failed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = set()
        self._stopped = False

    def run(self,
            command: Sequence[str],
            threads: int = 0,
            cwd: Optional[str] = None) -> Tuple[int, str]:
        """Run ``command`` (argv) in ``cwd`` with ``threads`` intra-op
        threads (0: the inherited setting), its stdout discarded.

        Returns:
            tuple[int, str]: The exit code and the stderr.
        """
        with self._lock:
            if self._stopped:
                raise RuntimeError('not started: the benchmark is stopping '
                                   f'after a failure: {command}')
            # a process group of its own: stop() ends its workers too
            process = subprocess.Popen(
                command, cwd=cwd, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True,
                env=job_environment(threads), start_new_session=True)
            self._running.add(process)
        try:
            _, stderr = process.communicate()
        finally:
            with self._lock:
                self._running.discard(process)
        return process.returncode, stderr

    def stop(self) -> None:
        """Kill the process group of every running process; refuse new
        ones."""
        with self._lock:
            self._stopped = True
            for process in self._running:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:  # ended meanwhile
                    pass


def run_side_by_side(tasks: Dict[Hashable, Callable[[], object]],
                     jobs: int,
                     processes: Optional[StoppableProcesses] = None) -> dict:
    """Call each of ``tasks``, ``jobs`` at a time, in the dict's order.

    The first failure (or Ctrl-C) stops ``processes`` (kills the running
    ones) and starts no further task, then is raised; what the finished
    tasks did stays done.

    Args:
        tasks (dict): Key -> zero-argument callable.
        jobs (int): Tasks at a time (threads).
        processes (StoppableProcesses, optional): The processes the tasks
            start.

    Returns:
        dict: Key -> result, in the order of ``tasks``.
    """
    failures = []

    def stop():
        if processes is not None:
            processes.stop()

    def guarded(task):
        if failures:
            return None
        try:
            return task()
        except BaseException as error:
            failures.append(error)
            stop()
            raise

    pool = ThreadPoolExecutor(max_workers=jobs)
    futures = {key: pool.submit(guarded, task) for key, task in tasks.items()}
    try:
        wait(futures.values(), return_when=FIRST_EXCEPTION)
    except BaseException as interrupt:  # Ctrl-C reaches the main thread
        failures.insert(0, interrupt)
        stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failures:
        raise failures[0]
    return {key: future.result() for key, future in futures.items()}
