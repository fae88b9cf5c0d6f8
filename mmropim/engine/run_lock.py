"""One training run per work dir at a time.

Two runs writing into one work dir undo each other: the second one's
start-up removes the temporary file the first one is writing its checkpoint
to, both rewrite ``last_checkpoint``, and ``--resume`` later continues
whichever wrote last. :class:`RunLock` is the lock file that keeps the
second run out. ``tools/train.py`` takes it before the runner is built (so
that a refused run has not yet written its config copy and log folder into
the work dir); :class:`~mmropim.engine.SafeCheckpointHook` takes it when
training starts, for other entry points (on the main process only), and
removes it when training ends. A lock this process already holds is shared,
not taken over.
"""
import atexit
import errno
import json
import os
import os.path as osp
import socket
import stat
import time
from typing import Dict, Optional

from mmengine.logging import print_log

LOCK_FILENAME = 'run.lock'
#: more than a lock this package writes (a few hundred bytes of JSON)
LOCK_SIZE_LIMIT = 1 << 16
# the environment variable each launcher gives a process's global rank in
LAUNCHER_RANK_VARIABLES = dict(
    pytorch=('RANK', ), slurm=('SLURM_PROCID', ),
    mpi=('OMPI_COMM_WORLD_RANK', 'PMI_RANK'))


class WorkDirLockedError(RuntimeError):
    """Another live process trains in the same work dir."""


def _process_start(pid: int) -> Optional[str]:
    """When process ``pid`` started (clock ticks after boot, from
    ``/proc``), None where that cannot be read (no such process, no
    ``/proc``)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(')', 1)[-1].split()  # after the command name
    return fields[19] if len(fields) > 19 else None  # field 22: starttime


def _process_is_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def is_launcher_main_process(launcher: str = 'none') -> bool:
    """Whether this process is the main one (global rank 0) of a launch,
    also before the process group exists (read from the launcher's
    environment variable, e.g. ``RANK`` of ``torchrun``).

    Args:
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    for name in LAUNCHER_RANK_VARIABLES.get(launcher, ()):
        if os.environ.get(name) is not None:
            return os.environ[name].strip() == '0'
    return True


class RunLock:
    """A lock file ``<work_dir>/run.lock`` holding the process id and host
    of the run that trains there.

    The content is written to a file of this process's own and linked to
    the lock's name (which fails if the name exists): of two runs starting
    at once exactly one gets it, and a kill never leaves a lock half
    written. A lock left by a process that no longer runs (killed, out of
    memory, preempted) on this host, whose process id now belongs to a
    process started at another time (ids are reused), or whose content
    names no run, is taken over with a log line; one held by a live
    process, or by a process on another host (whose state cannot be checked
    from here), stops the second run with a :class:`WorkDirLockedError`
    naming the file, the process and the fix.
    The lock held by this process is also removed when it exits (an error
    ending the run skips ``after_train``). A second :class:`RunLock` of the
    same file in the process that holds it (``tools/train.py`` takes it
    before the runner's hook does) shares it: :attr:`shared` is True and
    its :meth:`release` leaves the file to the first one.

    Args:
        work_dir (str): The run's work dir.
    """

    def __init__(self, work_dir: str) -> None:
        self.path = osp.join(work_dir, LOCK_FILENAME)
        self._held = False
        self._token = None
        self.shared = False  # held through another RunLock of this process

    def _describe(self) -> dict:
        return dict(pid=os.getpid(), host=socket.gethostname(),
                    started=time.strftime('%Y-%m-%d %H:%M:%S'),
                    process_start=_process_start(os.getpid()))

    @staticmethod
    def _read(path: str):
        """A lock file's content: a dict, the text if it is not a JSON
        object, None if the file is gone; a :class:`WorkDirLockedError`
        if it cannot be read (then nothing is taken over)."""
        try:
            # not through a link, never blocking (a FIFO), a regular file
            # of a lock's size (not /dev/zero)
            descriptor = os.open(
                path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0)
                | getattr(os, 'O_NONBLOCK', 0))
            with os.fdopen(descriptor, 'rb') as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise OSError(f'{path} is not a regular file')
                content = f.read(LOCK_SIZE_LIMIT + 1)
                if len(content) > LOCK_SIZE_LIMIT:
                    raise OSError(f'more than {LOCK_SIZE_LIMIT} bytes: not '
                                  'a lock this package wrote')
                text = content.decode()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:  # e.g. a folder
            raise WorkDirLockedError(
                f'cannot read the lock {path} ({error}); if no run trains '
                f'in {osp.dirname(path)}, remove it and start again'
            ) from error
        try:
            owner = json.loads(text)
        except ValueError:
            return text
        return owner if isinstance(owner, dict) else text

    def _read_owner(self):
        return self._read(self.path)

    def _create(self) -> bool:
        """Create the lock file, whole; False if it already exists."""
        folder = osp.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        owner = self._describe()
        own = f'{self.path}.{os.getpid()}.new'
        # a name left there (by a killed run of this process id, or a
        # planted link) is removed, never followed: the lock is written into
        # a file this call creates, so nothing outside the work dir is
        # written through a link
        try:
            os.unlink(own)
        except FileNotFoundError:
            pass
        except OSError as error:  # e.g. a folder
            raise WorkDirLockedError(
                f'cannot write the lock: {own} exists and cannot be removed '
                f'({error}); remove it and start again') from error
        try:
            descriptor = os.open(
                own, os.O_CREAT | os.O_EXCL | os.O_WRONLY
                | getattr(os, 'O_NOFOLLOW', 0), 0o666)
        except FileExistsError as error:  # made again since the unlink
            raise WorkDirLockedError(
                f'cannot write the lock: {own} was created by something '
                'else while this run started; start one run per work dir'
            ) from error
        try:
            with os.fdopen(descriptor, 'w') as f:
                json.dump(owner, f)
                f.flush()
                os.fsync(f.fileno())
            os.link(own, self.path)  # atomic; fails if the name exists
        except FileExistsError:
            return False
        finally:
            if osp.lexists(own):
                os.remove(own)
        self._token = owner
        return True

    def _is_stale(self, owner) -> bool:
        if not isinstance(owner, dict):
            return True  # names no run (a damaged or foreign file)
        pid = owner.get('pid')
        if owner.get('host') != socket.gethostname() or \
                not isinstance(pid, int) or isinstance(pid, bool):
            return False
        # this process: a run in it ended with an error and left the lock
        if pid == os.getpid() or not _process_is_alive(pid):
            return True
        started = owner.get('process_start')
        now = _process_start(pid)  # the id of a dead run, reused
        return started is not None and now is not None and started != now

    def acquire(self) -> None:
        """Take the lock, or raise :class:`WorkDirLockedError`."""
        if self._held:
            return
        holder = _held_locks.get(osp.realpath(self.path))
        if holder is not None and holder._held:
            self._held = self.shared = True
            return
        for _ in range(3):  # another starting run may take a stale lock too
            if self._create():
                self._held = True
                _held_locks[osp.realpath(self.path)] = self
                atexit.register(self.release)
                return
            owner = self._read_owner()
            if owner is None:
                continue  # removed in between: try again
            if not self._is_stale(owner):
                raise WorkDirLockedError(self._locked_message(owner))
            # move the stale file away under a name of our own: of two runs
            # taking it over at once, only one rename succeeds
            moved = f'{self.path}.stale.{os.getpid()}'
            try:
                os.rename(self.path, moved)
            except FileNotFoundError:
                continue
            if self._read(moved) != owner:
                # another run took the stale lock over between the read and
                # the rename: this is its live lock; put it back
                try:
                    os.link(moved, self.path)
                except FileExistsError:
                    pass  # a third run holds the name now
                os.remove(moved)
                continue
            os.remove(moved)
            if isinstance(owner, dict):
                print_log(
                    f'took over the lock {self.path} of process '
                    f'{owner.get("pid")}, which no longer runs (a run that '
                    'was killed or crashed)', logger='current')
            else:
                print_log(
                    f'took over the lock {self.path}, whose content '
                    f'{owner[:200]!r} names no run', logger='current')
        raise WorkDirLockedError(
            f'could not take the lock {self.path}: other runs keep taking '
            'it; start one run per work dir')

    def _locked_message(self, owner: dict) -> str:
        pid, host = owner.get('pid', '?'), owner.get('host', '?')
        started = owner.get('started', '?')
        here = host == socket.gethostname()
        check = f'`ps -p {pid}`' if here else \
            f'on host {host}: `ps -p {pid}`'
        return (f'another run trains in this work dir: the lock {self.path} '
                f'is held by process {pid} on host {host} (started '
                f'{started}). Two runs in one work dir delete each other\'s '
                f'checkpoints. Give this run its own --work-dir, or wait for '
                f'that run to end; if it no longer runs ({check} shows '
                f'nothing), remove {self.path} and start again.')

    def release(self) -> None:
        """Remove the lock if this object still holds it."""
        if not self._held:
            return
        self._held = False
        if self.shared:
            self.shared = False
            return
        if _held_locks.get(osp.realpath(self.path)) is self:
            del _held_locks[osp.realpath(self.path)]
        try:
            atexit.unregister(self.release)
        except Exception:  # noqa: BLE001 (interpreter shutting down)
            pass
        if self._read_owner() == self._token:  # never another run's lock
            try:
                os.remove(self.path)
            except OSError as error:
                if error.errno != errno.ENOENT:
                    raise


# real path of a lock file -> the RunLock of this process that created it
_held_locks: Dict[str, RunLock] = {}
