"""Checkpoints that load without running code and that a crash cannot
destroy.

MMEngine's ``CheckpointHook`` pickles the message hub (which only the full,
code-running unpickler reads back), deletes the oldest kept checkpoint
*before* it writes the new one, and writes the new one in place: a run
killed during the save (preemption, out of memory, a full disk) is left
with a truncated newest file and, with ``max_keep_ckpts=1``, no checkpoint
at all.
"""
import errno
import glob
import math
import os
import os.path as osp
import shutil
import tempfile
from collections import OrderedDict, deque
from typing import Iterator, List

import torch
from mmengine.dist import all_reduce, get_dist_info, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from ...compat import StepCheckpointHook
from ...utils.checkpoint_compat import CheckpointReadError, drop_meta_config
from ...utils.config_checks import (check_checkpoint_filename_tmpl,
                                    check_hook_arguments)
from ...utils.model_checkpoint import compare_checkpoint_with_model
from ...utils.plain_state import from_plain, to_plain
from ...utils.random_states import (gather_random_states, get_random_states,
                                    set_random_states)
from ..run_lock import RunLock
from ..run_state import (VALIDATION_RECORD, check_auto_resume, check_deletable,
                         check_fresh_run, check_resume_target,
                         check_resumed_config, check_run_state,
                         read_last_checkpoint, read_validation_record,
                         same_folder, validation_record)
from .finite_loss_hook import FiniteLossHook
from .pretrained_weights_check_hook import (PretrainedWeightsCheckHook,
                                            check_loaded_weights,
                                            pretrained_filled,
                                            warn_unchecked_pretrained)

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
    except BaseException as error:
        if osp.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError) and error.errno in (
                errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)):
            free = shutil.disk_usage(folder).free  # the temporary is gone
            kept = 'its previous content is intact' if osp.exists(path) \
                else 'nothing was written'
            raise OSError(
                error.errno,
                f'no space left to write {path}: it needs {len(data)} bytes '
                f'and {free} bytes are free in {folder}; {kept}') from error
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


class OwnCheckpointsBackend:
    """A file backend that deletes only a checkpoint hook's own checkpoints
    in its out dir (:func:`~mmropim.engine.run_state.check_deletable`);
    everything else is the wrapped backend's.

    Args:
        backend: The file backend to wrap (``backend`` attribute).
        out_dir (str): The hook's out dir.
        filename_tmpl (str): The hook's ``filename_tmpl``.
    """

    def __init__(self, backend, out_dir: str, filename_tmpl: str) -> None:
        self.backend = backend
        self.out_dir = out_dir
        self.filename_tmpl = filename_tmpl

    def __getattr__(self, name):
        if name == 'backend':  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.backend, name)

    def remove(self, filepath) -> None:
        check_deletable(str(filepath), self.out_dir, self.filename_tmpl)
        self.backend.remove(filepath)

    def rmtree(self, dir_path) -> None:
        check_deletable(str(dir_path), self.out_dir, self.filename_tmpl)
        self.backend.rmtree(dir_path)


def _optimizers(optim_wrapper) -> Iterator[torch.optim.Optimizer]:
    """The optimizers of an ``OptimWrapper`` or ``OptimWrapperDict`` (None:
    none)."""
    wrappers = getattr(optim_wrapper, 'optim_wrappers', None)
    for wrapper in (wrappers.values() if isinstance(wrappers, dict) else
                    [optim_wrapper] if optim_wrapper is not None else []):
        optimizer = getattr(wrapper, 'optimizer', None)
        if optimizer is not None:
            yield optimizer


def _optimizer_tensors(optim_wrapper) -> Iterator[torch.Tensor]:
    """The state tensors (e.g. AdamW's moments) of an optim wrapper's
    optimizers."""
    for optimizer in _optimizers(optim_wrapper):
        for state in getattr(optimizer, 'state', {}).values():
            yield from (value for value in state.values()
                        if isinstance(value, torch.Tensor))


def _non_finite_settings(optim_wrapper) -> List[str]:
    """The param-group settings (``lr``, ``weight_decay``, ``betas``, ...)
    of an optim wrapper's optimizers that are NaN or inf, as
    ``"'lr' of param group 0"``."""
    bad = []
    for optimizer in _optimizers(optim_wrapper):
        for index, group in enumerate(getattr(optimizer, 'param_groups',
                                              [])):
            for key, value in group.items():
                values = value if isinstance(value, (tuple, list)) \
                    else (value, )
                if key != 'params' and any(
                        isinstance(v, float) and not math.isfinite(v)
                        for v in values):
                    bad.append(f'{key!r} of param group {index}')
    return bad


def _non_finite_parts(model: torch.nn.Module, optim_wrapper=None) -> list:
    """Which of the weights (floating parameters and buffers of ``model``)
    and the optimizer state (its tensors, and its param groups' settings,
    named) hold a NaN or inf, on any rank (flags reduced: ranks agree and
    stop together)."""
    settings = _non_finite_settings(optim_wrapper)
    parts = (('weights', (*model.parameters(), *model.buffers())),
             ('optimizer state', _optimizer_tensors(optim_wrapper)))
    flags = []
    for _, tensors in parts:
        checks = [torch.isfinite(tensor).all() for tensor in tensors
                  if tensor.is_floating_point()]
        flags.append(torch.stack(checks).all().cpu() if checks else
                     torch.tensor(True))
    flags[1] = flags[1] & torch.tensor(not settings)
    flag = torch.stack(flags).to(torch.int32)
    all_reduce(flag, op='min')  # a no-op without distributed training
    names = [name for (name, _), ok in zip(parts, flag.tolist()) if not ok]
    if settings and 'optimizer state' in names:
        names[-1] += f' ({", ".join(settings)})'
    return names


@HOOKS.register_module()
class SafeCheckpointHook(StepCheckpointHook):
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
      Validation leaves the random states as it found them, so that a
      resumed run that repeats an interrupted validation continues alike.
    - **Run state checked.** The file names a resumed run state holds
      (``best_ckpt``, ``last_ckpt``, ``keep_ckpt_ids``) are kept only when
      they name this run's own checkpoints in its out dir, and dropped with
      a log line when the checkpoint comes from another folder
      (:func:`~mmropim.engine.run_state.check_run_state`); the hook deletes
      nothing but its own checkpoints in its out dir.
    - **Finite.** Before a checkpoint is written (and before old ones are
      deleted), the losses since the last check (``FiniteLossHook``'s
      record) and the weights are checked: a non-finite state is not saved,
      the previous checkpoint and ``last_checkpoint`` stay, and the error
      names the first bad iteration and epoch and the checkpoint to resume
      from.
    - **Validation not skipped.** A checkpoint records whether a
      validation follows it; the work dir's ``last_validation.json``
      records the last one that finished. ``--resume`` from a checkpoint
      whose validation was interrupted runs that validation first.
    - **One run per work dir.** Training takes the lock ``run.lock`` in the
      work dir (:class:`~mmropim.engine.run_lock.RunLock`, main process
      only), and in the checkpoint folder when ``out_dir`` makes it another
      local one, before anything there is touched; a second run stops with
      an error naming the run that holds it. (``tools/train.py`` takes the
      work dir's lock before it builds the runner; the hook shares it.)
    - **One run per checkpoint.** A checkpoint to resume that was written
      by a run with another ``model`` or ``optim_wrapper`` (its
      ``meta['cfg']``) is refused as soon as it is loaded, before the
      runner loads its weights and optimizer state
      (:func:`~mmropim.engine.run_state.check_resumed_config`); a fresh run
      in a work dir whose ``last_checkpoint`` was written by such a run is
      refused when training starts, and one with the same model and
      optimizer is warned, naming the checkpoints it replaces
      (:func:`~mmropim.engine.run_state.check_fresh_run`; ``tools/train.py``
      checks both before it builds the runner).

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
        # MMEngine passes unknown arguments to runner.save_checkpoint: a
        # typo would fail only at the first save
        check_hook_arguments(type(self), kwargs)
        # it writes before it deletes, and deletes only names of this
        # template in its out dir
        if kwargs.get('filename_tmpl') is not None:  # None: MMEngine's
            check_checkpoint_filename_tmpl(kwargs['filename_tmpl'],
                                           'filename_tmpl')
        super().__init__(**kwargs)
        self._atomic = self.backend_args is None and \
            self.file_client_args is None
        self.plain = plain
        self.save_random_states = save_random_states
        self._random_states = None  # of every rank, for the next save
        self._resumed_random_states = None
        self._states_before_val = None
        self._loaded_meta = None  # of the checkpoint last loaded
        self._loaded_weights = None  # (name, resumed, differences)
        self._checkpoint_loaded = False  # resume or load_from
        self._resumed_checkpoint = False  # a checkpoint loaded to resume
        self._run_locks = []  # RunLock of the work dir (and out dir)
        self._training = False

    def _final_out_dir(self, runner) -> str:
        """The folder checkpoints go to, as ``CheckpointHook.before_train``
        sets it: the work dir, or ``out_dir/<work dir's name>``."""
        if self.out_dir is None or self.out_dir == runner.work_dir:
            return runner.work_dir
        name = osp.basename(runner.work_dir.rstrip(osp.sep))
        if '://' in str(self.out_dir):
            return f'{str(self.out_dir).rstrip("/")}/{name}'
        return osp.join(self.out_dir, name)

    def _resumed(self, runner) -> bool:
        """Whether the runner resumed from the checkpoint it loaded (it then
        continues at that checkpoint's iteration; ``load_from`` starts at
        0)."""
        meta = self._loaded_meta
        return meta is not None and meta.get('iter', 0) > 0 and \
            runner.iter == meta.get('iter')

    def _check_loaded_weights(self, runner) -> None:
        """What the runner loaded with ``strict=False``: a resumed
        checkpoint must hold every weight; a ``load_from`` one every weight
        a ``Pretrained`` init does not fill, unless the run's
        :class:`PretrainedWeightsCheckHook` (with its ``fresh_parameters``)
        checks it."""
        loaded, self._loaded_weights = self._loaded_weights, None
        if loaded is None:
            return
        name, resumed, differences = loaded
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        check_loaded_weights(
            model, f'--resume of {name}' if resumed else f'load_from={name}',
            differences, set() if resumed else pretrained_filled(model),
            resumed=resumed)

    def before_train(self, runner) -> None:
        # before anything is written: weights the loaded checkpoint lacks
        self._check_loaded_weights(runner)
        out_dir = self.out_dir or runner.work_dir
        self._atomic = self._atomic and '://' not in str(out_dir)
        if self._atomic:
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        if is_main_process():  # before anything in the work dir is touched
            self._take_run_locks(runner)
            try:
                # tools/train.py, whose lock the hook shares, checked this
                # before the runner was built
                cfg = getattr(runner, 'cfg', None) or {}
                shared = self._run_locks[0].shared
                if not shared and not self._resumed_checkpoint:
                    if cfg.get('resume') and not cfg.get('load_from'):
                        # resume found no last_checkpoint
                        check_auto_resume(
                            runner.work_dir,
                            dict(out_dir=self.out_dir,
                                 filename_tmpl=self.filename_tmpl))
                    check_fresh_run(cfg, runner.work_dir)
                elif not shared and cfg.get('load_from'):
                    check_resume_target(cfg, runner.work_dir,
                                        cfg['load_from'])
            except BaseException:
                self._release_run_locks()
                raise
            if not self._checkpoint_loaded:
                warn_unchecked_pretrained(runner)
        self._training = True
        resumed = self._resumed(runner)
        # whenever the message hub holds a run state, resumed or not (a
        # checkpoint whose meta says iteration 0 is loaded all the same),
        # and before MMEngine's hook reads (and deletes) by it
        cfg = getattr(runner, 'cfg', None) or {}
        origin = cfg.get('load_from') or \
            read_last_checkpoint(runner.work_dir)
        check_run_state(runner.message_hub, self._final_out_dir(runner),
                        self.filename_tmpl, origin)
        self.last_ckpt = runner.message_hub.get_info('last_ckpt')
        # rotated below, through the guarded backend
        kept_ids = runner.message_hub.runtime_info.pop('keep_ckpt_ids', None)
        super().before_train(runner)
        self.file_backend = OwnCheckpointsBackend(
            self.file_backend, self.out_dir, self.filename_tmpl)
        if kept_ids is not None:
            self._rotate_resumed(runner, list(kept_ids))
        if self._atomic and is_main_process():
            for folder in {self.out_dir, runner.work_dir}:
                for left in glob.glob(
                        osp.join(glob.escape(folder),
                                 f'.*{TEMPORARY_SUFFIX}')):
                    name = osp.basename(left)
                    if name.startswith(('.last_checkpoint.',
                                        f'.{VALIDATION_RECORD}.')) \
                            or '.pth.' in name:
                        os.remove(left)  # a save that was killed
        states, self._resumed_random_states = \
            self._resumed_random_states, None
        if not resumed:
            return
        if states:
            rank, world_size = get_dist_info()
            if len(states) != world_size:
                print_log(
                    f'the checkpoint holds the random states of '
                    f'{len(states)} processes and this run has {world_size}:'
                    ' random streams continue from the seed, not from the '
                    'checkpoint', logger='current', level=30)
            else:
                set_random_states(states[rank])
        self._finish_interrupted_validation(runner)

    def _rotate_resumed(self, runner, ids: list) -> None:
        """Keep the last ``max_keep_ckpts`` of the resumed run's kept steps
        ``ids`` and delete the checkpoints of the others (a run resumed
        with a smaller ``max_keep_ckpts``), as MMEngine's hook does, but in
        one pass and through :class:`OwnCheckpointsBackend`."""
        runner.message_hub.update_info('keep_ckpt_ids', ids)
        if self.max_keep_ckpts <= 0:
            return  # MMEngine keeps every checkpoint and ignores the list
        kept = ids[-self.max_keep_ckpts:]
        self.keep_ckpt_ids = deque(kept, self.max_keep_ckpts)
        runner.message_hub.update_info('keep_ckpt_ids', kept)
        if not is_main_process():
            return
        for step in dict.fromkeys(ids[:-self.max_keep_ckpts]):
            if step in kept:
                continue
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed's folders
                self.file_backend.rmtree(path)

    def _finish_interrupted_validation(self, runner) -> None:
        """Run the validation that followed the resumed checkpoint if it
        did not finish (the run was stopped during it)."""
        meta = self._loaded_meta
        if not meta.get('validation_due'):
            return
        done = read_validation_record(runner.work_dir)
        if done == dict(epoch=meta.get('epoch'), iter=meta.get('iter')):
            return
        val_loop = getattr(runner, 'val_loop', None)
        if val_loop is None:
            print_log(
                'the validation after the resumed checkpoint did not finish '
                'and this run does not validate: its metrics and best '
                'checkpoint stay as they were', logger='current', level=30)
            return
        print_log(
            f'the validation after the resumed checkpoint (epoch '
            f'{meta.get("epoch")}, iteration {meta.get("iter")}) did not '
            'finish; running it now', logger='current')
        val_loop.run()

    def _take_run_locks(self, runner) -> None:
        """Lock the work dir and, when checkpoints go to another local
        folder, that folder too: two work dirs of one name (``a/exp``,
        ``b/exp``) with one ``out_dir`` write to the same folder."""
        folders = [runner.work_dir]
        out_dir = self._final_out_dir(runner)
        if '://' not in str(out_dir) and \
                not same_folder(out_dir, runner.work_dir):
            folders.append(out_dir)
        self._run_locks = []
        try:
            for folder in folders:
                lock = RunLock(folder)
                lock.acquire()
                self._run_locks.append(lock)
        except BaseException:
            self._release_run_locks()
            raise

    def _release_run_locks(self) -> None:
        for lock in self._run_locks:
            lock.release()
        self._run_locks = []

    def after_train(self, runner) -> None:
        super().after_train(runner)
        self._training = False
        self._release_run_locks()

    def before_val_epoch(self, runner) -> None:
        super().before_val_epoch(runner)
        if self.save_random_states:
            self._states_before_val = get_random_states()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._states_before_val is not None:
            set_random_states(self._states_before_val)
            self._states_before_val = None
        if self._training and self.save_best and metrics:
            # MMEngine deletes the previous best checkpoint and writes the
            # new one unchecked; non-finite weights can still score (the
            # argmax of NaN logits is some class)
            step = runner.epoch if self.by_epoch else runner.iter
            self._refuse_non_finite(
                runner, f'the best checkpoint of '
                f'{"epoch" if self.by_epoch else "iteration"} {step}',
                dict(epoch=runner.epoch, iter=runner.iter))
        super().after_val_epoch(runner, metrics)
        if self._training and is_main_process():
            # after the best checkpoint: a kill before this line makes a
            # resumed run validate this checkpoint again
            write_atomically(validation_record(runner.epoch, runner.iter),
                             osp.join(runner.work_dir, VALIDATION_RECORD))

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
        cfg = getattr(runner, 'cfg', None) or {}
        work_dir = getattr(runner, 'work_dir', None)
        name = cfg.get('load_from') or \
            (work_dir and read_last_checkpoint(work_dir)) or \
            'the loaded checkpoint'
        for key in list(checkpoint):  # plain or not, as it was written
            if key != 'state_dict':
                try:
                    checkpoint[key] = from_plain(checkpoint[key])
                except ValueError as error:  # a newer format's entry
                    raise ValueError(f'{name}: {error}') from None
        meta = checkpoint.get('meta')
        # the loader removed meta['config'] from what it read; a mapping
        # rebuilt here could bring it back for MMEngine's resume to run
        if meta is not None and type(meta) not in (dict, OrderedDict):
            raise CheckpointReadError(
                f'{name}: its meta is a {type(meta).__name__}; MMEngine '
                'writes meta as a dict. Refused: another mapping could '
                'carry meta["config"], which MMEngine\'s resume runs as '
                'Python.')
        drop_meta_config(checkpoint, name)
        if cfg.get('resume'):  # before the weights and optimizer load
            check_resumed_config(meta, cfg, name)
            self._resumed_checkpoint = True
        self._checkpoint_loaded = True
        model = getattr(runner, 'model', None)
        # a load_from of a run with PretrainedWeightsCheckHook: checked there
        checked_elsewhere = not cfg.get('resume') and any(
            isinstance(hook, PretrainedWeightsCheckHook)
            for hook in getattr(runner, 'hooks', []))
        if isinstance(model, torch.nn.Module) and not checked_elsewhere \
                and isinstance(checkpoint.get('state_dict'), dict):
            model = model.module if is_model_wrapper(model) else model
            self._loaded_weights = (
                name, bool(cfg.get('resume')),
                compare_checkpoint_with_model(model, checkpoint))
        self._resumed_random_states = checkpoint.get('random_states')
        self._loaded_meta = dict(meta) if isinstance(meta, dict) else None
        super().after_load_checkpoint(runner, checkpoint)

    def _validation_due(self, runner, meta: dict) -> bool:
        """Whether the train loop validates right after the checkpoint of
        ``meta`` (its own condition, on the epoch or the iteration)."""
        if getattr(runner, 'val_loop', None) is None:
            return False
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            done, last = meta['iter'], loop.max_iters
        elif self.by_epoch:
            done, last = meta['epoch'], loop.max_epochs
        else:  # iteration checkpoints; the loop validates after epochs
            dataloader = getattr(loop, 'dataloader', None)
            per_epoch = len(dataloader) if dataloader is not None else 0
            if per_epoch == 0 or meta['iter'] % per_epoch:
                return False  # in the middle of an epoch
            done, last = meta['iter'] // per_epoch, loop.max_epochs
        begin = getattr(loop, 'val_begin', 1)
        interval = getattr(loop, 'val_interval', 1)
        return done >= begin and (done % interval == 0 or done == last)

    def _refuse_non_finite(self, runner, filename: str, meta: dict) -> None:
        """Raise, before anything is written or deleted, if a loss since
        the last check or a weight is NaN or inf."""
        previous = self.last_ckpt
        if previous:
            keep = (f'{filename} was not written; {previous} is kept and '
                    f'{osp.join(runner.work_dir, "last_checkpoint")} still '
                    'names it: resume from it (--resume) after the fix.')
        else:
            keep = (f'{filename} was not written; no checkpoint was written '
                    'before it.')
        for hook in runner.hooks:
            if isinstance(hook, FiniteLossHook):
                hook.raise_if_bad(runner, meta['iter'], advice=keep)
        bad = _non_finite_parts(runner.model,
                                getattr(runner, 'optim_wrapper', None))
        if bad:
            where = (f'epoch {meta["epoch"]} (iteration {meta["iter"]})'
                     if self.by_epoch else f'iteration {meta["iter"]}')
            raise FloatingPointError(
                f'{" and ".join(bad)} non-finite at {where}: a parameter, '
                'buffer or optimizer state tensor is NaN or inf; '
                f'{keep} Lower the learning rate or check the data.')

    def save_checkpoint_at_step(self, runner, step, meta):
        # here, on every rank: runner.save_checkpoint runs on rank 0 only
        filename = self.filename_tmpl.format(step)
        self._refuse_non_finite(runner, filename, meta)
        meta = dict(meta, validation_due=self._validation_due(runner, meta))
        previous = self.last_ckpt
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
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        try:
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
        except OSError as error:
            if error.errno not in (errno.ENOSPC,
                                   getattr(errno, 'EDQUOT', errno.ENOSPC)):
                raise
            kept = (f'the previous checkpoint {previous} is intact and '
                    f'{osp.join(runner.work_dir, "last_checkpoint")} still '
                    'names it: free some space, then resume with --resume'
                    if previous else 'no checkpoint was written before')
            raise OSError(error.errno, f'{error.strerror}; {kept}') from error
        if not is_main_process():
            return
        write_atomically(self.last_ckpt,
                         osp.join(runner.work_dir, 'last_checkpoint'))
        for old in stale:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old))
            check_deletable(path, self.out_dir, self.filename_tmpl)
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed's folders
                self.file_backend.rmtree(path)
