"""Checkpoints that load without running code and that a crash cannot
destroy.

MMEngine's ``CheckpointHook`` pickles the message hub (which only the full,
code-running unpickler reads back), deletes the oldest kept checkpoint
*before* it writes the new one, and writes the new one in place: a run
killed during the save (preemption, out of memory, a full disk) is left
with a truncated newest file and, with ``max_keep_ckpts=1``, no checkpoint
at all.
"""
import glob
import os
import os.path as osp
import tempfile

from mmengine.dist import get_dist_info, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ...utils.plain_state import from_plain, to_plain
from ...utils.random_states import (gather_random_states, get_random_states,
                                    set_random_states)

ATOMIC_BACKEND = 'atomic_local'
TEMPORARY_SUFFIX = '.tmp'


def write_atomically(data, path: str) -> None:
    """Write ``data`` (bytes or str) to ``path`` through a temporary file in
    the same folder, flushed to disk and renamed into place: ``path`` holds
    either its old content or all of the new one.

    Args:
        data (bytes | str): Content; str is written as UTF-8.
        path (str): Target file.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix=TEMPORARY_SUFFIX)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)  # as open() would; mkstemp: 0600
        with os.fdopen(handle, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose writes are atomic
    (:func:`write_atomically`). Select it with
    ``backend_args=dict(backend='atomic_local')``."""

    def put(self, obj: bytes, filepath) -> None:
        write_atomically(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), str(filepath))


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints load with ``weights_only=True``,
    resume exactly, and that never leaves a run without a readable
    checkpoint.

    - **Plain.** Before a checkpoint is saved, everything but the weights
      (message hub, meta, optimizer and scheduler states) is replaced by a
      :func:`~mmropim.utils.plain_state.to_plain` copy; after one is loaded
      into a runner (``--resume``, ``load_from``) it is rebuilt before the
      runner reads it. The file therefore resumes through
      ``torch.load(weights_only=True)`` (PyTorch's default since 2.6), the
      loader that never runs code from a file.
    - **Atomic.** The checkpoint is written to a temporary file and renamed
      into place (a local ``out_dir`` without ``backend_args``; remote
      folders and given ``backend_args`` are used as MMEngine does),
      then ``last_checkpoint`` is updated the same way, and only then are the
      checkpoints beyond ``max_keep_ckpts`` deleted. A crash at any moment
      leaves ``last_checkpoint`` naming a complete file; temporary files a
      killed save left are removed when training starts again.
    - **Exact resume.** The torch, numpy, Python (and CUDA) random states of
      every rank are saved with the checkpoint and restored when a run
      resumes from it (``--resume``; not ``load_from``), before training
      continues: sketches, masks and drop paths continue as in the run that
      was stopped. Data-loader workers need
      :func:`mmropim.datasets.worker_init_per_epoch` and
      ``persistent_workers=False`` to follow (our configs set both).
      Validation leaves the random states as it found them, since a
      resumed run does not repeat the validation that followed its
      checkpoint.

    As ``default_hooks.checkpoint`` it survives a child config's own
    ``custom_hooks`` list.

    Args:
        plain (bool): Write the run state as plain data. Defaults to True.
        save_random_states (bool): Save and restore the random states.
            Defaults to True.
        **kwargs: Arguments of MMEngine's ``CheckpointHook``.
    """

    def __init__(self,
                 plain: bool = True,
                 save_random_states: bool = True,
                 **kwargs) -> None:
        for name, value in (('plain', plain),
                            ('save_random_states', save_random_states)):
            if not isinstance(value, bool):
                raise TypeError(
                    f'{name} must be True or False, got {value!r}')
        super().__init__(**kwargs)
        self._atomic = self.backend_args is None and \
            self.file_client_args is None
        self.plain = plain
        self.save_random_states = save_random_states
        self._random_states = None  # of every rank, for the next save
        self._resumed_random_states = None
        self._states_before_val = None

    def before_train(self, runner) -> None:
        out_dir = self.out_dir or runner.work_dir
        self._atomic = self._atomic and '://' not in str(out_dir)
        if self._atomic:
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)
        if self._atomic and is_main_process():
            for folder in {self.out_dir, runner.work_dir}:
                for left in glob.glob(
                        osp.join(folder, f'.*{TEMPORARY_SUFFIX}')):
                    if osp.basename(left).startswith(
                            ('.last_checkpoint.', )) or '.pth.' in left:
                        os.remove(left)  # a save that was killed
        states, self._resumed_random_states = \
            self._resumed_random_states, None
        if not states or not getattr(runner, '_resume', False):
            return
        rank, world_size = get_dist_info()
        if len(states) != world_size:
            print_log(
                f'the checkpoint holds the random states of {len(states)} '
                f'processes and this run has {world_size}: random streams '
                'continue from the seed, not from the checkpoint',
                logger='current', level=30)
            return
        set_random_states(states[rank])

    def before_val_epoch(self, runner) -> None:
        super().before_val_epoch(runner)
        if self.save_random_states:
            self._states_before_val = get_random_states()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._states_before_val is not None:
            set_random_states(self._states_before_val)
            self._states_before_val = None
        super().after_val_epoch(runner, metrics)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        super().before_save_checkpoint(runner, checkpoint)
        if self._random_states is not None:
            checkpoint['random_states'] = self._random_states
            self._random_states = None
        if self.plain:
            for key in list(checkpoint):
                if key != 'state_dict':  # tensors only; keep it shared
                    checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):  # plain or not, as it was written
            if key != 'state_dict':
                checkpoint[key] = from_plain(checkpoint[key])
        self._resumed_random_states = checkpoint.get('random_states')
        super().after_load_checkpoint(runner, checkpoint)

    def _save_checkpoint_with_step(self, runner, step, meta):
        # here, on every rank: runner.save_checkpoint runs on rank 0 only
        if self.save_random_states:
            self._random_states = gather_random_states()
        stale = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids[0])
            self.keep_ckpt_ids.append(step)  # a full deque drops stale[0]
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        write_atomically(self.last_ckpt,
                         osp.join(runner.work_dir, 'last_checkpoint'))
        for old in stale:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed's folders
                self.file_backend.rmtree(path)
