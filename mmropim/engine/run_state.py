"""The run state a checkpoint carries, treated as data that is checked
before use.

MMEngine's checkpoint hook keeps file names in the message hub
(``best_ckpt``, ``best_ckpt_<key>``, ``last_ckpt``) and the steps of the
kept checkpoints (``keep_ckpt_ids``), and deletes those files later: a
resumed checkpoint from another folder (``--resume`` of another run's file,
a copied work dir whose ``last_checkpoint`` still names the original) or one
written by hand would make the resumed run delete files it never wrote.
:func:`check_run_state` keeps only names of the run's own checkpoints in its
own folder, :func:`check_deletable` refuses any other deletion, and
:func:`find_resume_checkpoint` resolves ``--resume`` without a path to the
work dir's own file.
"""
import json
import os
import os.path as osp
import re
import reprlib
from typing import Optional

from mmengine.logging import print_log

LAST_CHECKPOINT = 'last_checkpoint'
# written after the validation that follows a checkpoint has finished
VALIDATION_RECORD = 'last_validation.json'


def _is_remote(path: str) -> bool:
    return '://' in str(path)


def same_folder(folder: str, other: str) -> bool:
    """Whether two folder names name the same folder (symbolic links
    resolved for local ones)."""
    if _is_remote(folder) or _is_remote(other):
        return str(folder).rstrip('/') == str(other).rstrip('/')
    return osp.realpath(folder) == osp.realpath(other)


def _parent(path: str) -> str:
    """The folder ``path`` is in, as the system finds it: ``..`` is not
    applied to the text (``osp.abspath``) but after the links before it
    are followed (``work/link/../x`` is beside the folder ``link`` points
    to), so that a checked name is the file that would be deleted."""
    if _is_remote(path):
        return str(path).rstrip('/').rsplit('/', 1)[0]
    return osp.realpath(osp.dirname(str(path)) or os.curdir)


def _basename(path: str) -> str:
    return str(path).rstrip('/').replace('\\', '/').rsplit('/', 1)[-1]


def checkpoint_name_pattern(filename_tmpl: str) -> str:
    """A regular expression of the names ``filename_tmpl`` gives to a step,
    e.g. ``epoch_(\\d+)\\.pth`` for ``'epoch_{}.pth'``."""
    return re.escape(filename_tmpl).replace(re.escape('{}'), r'(\d+)')


def is_own_checkpoint(path, out_dir: str, filename_tmpl: str,
                      best: bool = False) -> bool:
    """Whether ``path`` names a checkpoint the hook writes: a file directly
    in ``out_dir`` named by ``filename_tmpl`` (``epoch_3.pth``), or with
    ``best=True`` a best checkpoint (``best_accuracy_top1_epoch_3.pth``).

    Args:
        path: The name to check; anything but a str is not one.
        out_dir (str): The folder the hook writes checkpoints to.
        filename_tmpl (str): The hook's ``filename_tmpl``.
        best (bool): Check for a best checkpoint's name. Defaults to False.
    """
    if not isinstance(path, str) or not path:
        return False
    if not same_folder(_parent(path), out_dir):
        return False
    pattern = checkpoint_name_pattern(filename_tmpl)
    if best:
        pattern = r'best_[^/\\]+_' + pattern
    return re.fullmatch(pattern, _basename(path)) is not None


def check_deletable(path: str, out_dir: str, filename_tmpl: str) -> None:
    """Raise a ``RuntimeError`` unless ``path`` names a checkpoint of this
    run in ``out_dir`` (:func:`is_own_checkpoint`, regular or best); the
    last line of defence before a file or folder is deleted."""
    if not (is_own_checkpoint(path, out_dir, filename_tmpl)
            or is_own_checkpoint(path, out_dir, filename_tmpl, best=True)):
        raise RuntimeError(
            f'refusing to delete {path!r}: a checkpoint hook deletes only '
            f'its own checkpoints ({filename_tmpl!r} or best_*) directly in '
            f'its out dir {out_dir}')


def check_run_state(message_hub, out_dir: str, filename_tmpl: str,
                    origin: Optional[str]) -> list:
    """Drop the file names of a resumed run state that are not this run's.

    ``last_ckpt`` is kept only when it names a checkpoint of this run in
    ``out_dir`` (:func:`is_own_checkpoint`); ``best_ckpt`` /
    ``best_ckpt_<key>`` only when they name a best checkpoint there and
    the checkpoint both was read from ``out_dir`` (``origin``) and was
    written there (its ``last_ckpt``); ``keep_ckpt_ids`` only when, in
    addition, every id is a non-negative integer (not a bool): a
    checkpoint from another folder would otherwise make the hook delete
    this folder's files. Each dropped entry is logged.

    Args:
        message_hub (MessageHub): The runner's message hub, after resuming.
        out_dir (str): The folder the checkpoint hook writes to.
        filename_tmpl (str): The hook's ``filename_tmpl``.
        origin (str, optional): The checkpoint file the run resumed from,
            None if unknown (then ``keep_ckpt_ids`` is dropped).

    Returns:
        list[str]: The names of the dropped entries.
    """
    info = message_hub.runtime_info
    dropped = []
    # a crafted value can be huge: the log line shows its beginning
    short = reprlib.Repr()
    short.maxlist, short.maxstring, short.maxother = 8, 300, 300

    def drop(key, why):
        info.pop(key, None)
        dropped.append(key)
        print_log(f'the resumed run state names {key}={why}; it is not '
                  f'used, so nothing in {out_dir} is deleted because of it',
                  logger='current', level=30)

    last = info.get('last_ckpt')
    written_here = is_own_checkpoint(last, out_dir, filename_tmpl)
    if 'last_ckpt' in info and not written_here:
        drop('last_ckpt', f'{short.repr(last)}: the checkpoint was written '
             'in another folder')
    read_here = isinstance(origin, str) and same_folder(
        _parent(origin), out_dir)
    where = (f'the checkpoint ({short.repr(origin)}, written as '
             f'{short.repr(last)}) comes from another folder')
    for key in [k for k in info if k == 'best_ckpt'
                or str(k).startswith('best_ckpt_')]:
        if not is_own_checkpoint(info[key], out_dir, filename_tmpl,
                                 best=True):
            drop(key, f'{short.repr(info[key])}, not a best checkpoint in '
                 f'{out_dir}')
        elif not (read_here and written_here):
            drop(key, f'{short.repr(info[key])}, but {where}')
    if 'keep_ckpt_ids' in info:
        ids = info['keep_ckpt_ids']
        if not isinstance(ids, (list, tuple)) or not all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 0
                for i in ids):
            drop('keep_ckpt_ids', f'{short.repr(ids)}, not a list of steps')
        elif not (read_here and written_here):
            drop('keep_ckpt_ids',
                 f'{short.repr(list(ids))} (steps of the checkpoints to '
                 f'rotate), but {where}')
    return dropped


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """What the work dir's ``last_checkpoint`` names, None without one."""
    try:
        with open(osp.join(work_dir, LAST_CHECKPOINT)) as f:
            named = f.read().strip()
    except FileNotFoundError:
        return None
    return named or None


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` without a path continues: the one the
    work dir's ``last_checkpoint`` names; if that one is in another folder
    and the work dir holds a file of the same name (a work dir that was
    copied or moved), that file, with a log line.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str | None: The checkpoint, None if the work dir has no
        ``last_checkpoint`` (a fresh start).
    """
    named = read_last_checkpoint(work_dir)
    if named is None or _is_remote(named):
        return named
    own = osp.join(work_dir, osp.basename(named))
    if not same_folder(osp.dirname(osp.abspath(named)), work_dir) \
            and osp.isfile(own):
        print_log(
            f'{osp.join(work_dir, LAST_CHECKPOINT)} names {named}, in '
            'another folder (a copied or moved work dir); resuming this '
            f'work dir\'s own {own}', logger='current')
        return own
    return named


def read_validation_record(work_dir: str) -> Optional[dict]:
    """The ``epoch`` / ``iter`` of the checkpoint whose validation finished
    last, None if none did (or the record is unreadable)."""
    try:
        with open(osp.join(work_dir, VALIDATION_RECORD)) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def validation_record(epoch: int, iteration: int) -> str:
    """The content of :data:`VALIDATION_RECORD` for a checkpoint."""
    return json.dumps(dict(epoch=int(epoch), iter=int(iteration)))


__all__ = [
    'LAST_CHECKPOINT', 'VALIDATION_RECORD', 'same_folder',
    'checkpoint_name_pattern', 'is_own_checkpoint', 'check_deletable',
    'check_run_state', 'read_last_checkpoint', 'find_resume_checkpoint',
    'read_validation_record', 'validation_record'
]
