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

A checkpoint also records the config of the run that wrote it (MMEngine's
``meta['cfg']``): :func:`check_resumed_config` refuses to resume one whose
model or optimizer differ from the current run's, and
:func:`check_fresh_run` refuses to start a fresh run over the checkpoints of
a run with another model or optimizer (and warns, naming them, when the
model and optimizer are the same). :func:`check_auto_resume` refuses
``--resume`` without a checkpoint in a work dir that holds checkpoints but
no ``last_checkpoint``. :func:`claim_work_dir` takes the work
dir's lock and runs these checks before a runner is built.
"""
import ast
import glob
import json
import os
import os.path as osp
import re
import reprlib
import string
from typing import Any, Dict, List, Mapping, Optional

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
    parts = []
    for literal, field, _, _ in string.Formatter().parse(filename_tmpl):
        parts.append(re.escape(literal))
        if field is not None:  # the step, digits (zero-padded or not)
            parts.append(r'(\d+)')
    return ''.join(parts)


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
    path = osp.join(work_dir, LAST_CHECKPOINT)
    try:
        with open(path, encoding='utf-8') as f:
            named = f.read().strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as error:
        raise ValueError(
            f'{path} is not UTF-8 text ({error.reason} at byte '
            f'{error.start}), so it names no checkpoint: write the path of '
            'the checkpoint to resume into it, or remove it') from None
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
    own = _own_copy(work_dir, named)
    if own != named:
        print_log(
            f'{osp.join(work_dir, LAST_CHECKPOINT)} names {named}, in '
            'another folder (a copied or moved work dir); resuming this '
            f'work dir\'s own {own}', logger='current')
    return own


def _own_copy(work_dir: str, named: str) -> str:
    """``named``, or the work dir's file of the same name when ``named``
    is in another folder (a copied or moved work dir)."""
    own = osp.join(work_dir, osp.basename(named))
    if not same_folder(osp.dirname(osp.abspath(named)), work_dir) \
            and osp.isfile(own):
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


# ------------------------------------------------ which run a checkpoint is
#: The config entries that make two runs the same run: a checkpoint written
#: with other ones is not continued by ``--resume`` and not overwritten by
#: a fresh run. Everything else (work_dir, resume, load_from, launcher,
#: the schedule's length and end, hooks, env, data) may change.
RUN_IDENTITY_KEYS = ('model', 'optim_wrapper')
#: Entries at any depth under them that a resumed run may change: the
#: initialization (the checkpoint's weights replace it) and what the
#: optimizer state does not hold; a fresh run compares them too.
NOT_COMPARED_ON_RESUME = ('init_cfg', 'pretrained',
                          # not in the optimizer state; a resumed run uses
                          # the config's (e.g. a lower clip after a NaN)
                          'clip_grad', 'accumulative_counts', 'loss_scale')
SHOWN_DIFFERENCES = 6


class RunConfigMismatchError(RuntimeError):
    """A checkpoint to resume, or the last checkpoint of the work dir a
    fresh run starts in, was written by a run with another model or
    optimizer."""


class _NotLiteral:
    """A value of a recorded config that is not a literal (not compared)."""

    def __repr__(self) -> str:
        return '<not a literal>'


class _Absent:
    def __repr__(self) -> str:
        return '(not set)'


ABSENT = _Absent()


def _literal(node: ast.AST) -> Any:
    """The value of a literal of a config written as Python text (numbers,
    strings, lists, tuples, dicts, ``dict(...)``); anything else gives a
    :class:`_NotLiteral`. Nothing is executed."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {
            _literal(key): _literal(value)
            for key, value in zip(node.keys, node.values)
        }
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and len(node.args) <= 1 and \
            all(keyword.arg for keyword in node.keywords):
        value = _literal(node.args[0]) if node.args else {}
        if isinstance(value, dict):
            value.update({k.arg: _literal(k.value) for k in node.keywords})
            return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op,
                                                    (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id in ('inf', 'nan'):
        return float(node.id)
    return _NotLiteral()


def recorded_config(meta) -> Optional[Dict[str, Any]]:
    """The :data:`RUN_IDENTITY_KEYS` entries of the config a checkpoint
    records (MMEngine writes it as Python text, ``meta['cfg']``), read as
    literals: nothing in the text is executed.

    Args:
        meta: The checkpoint's ``meta``.

    Returns:
        dict | None: The entries found (a value that is not a literal is
        a placeholder that compares with nothing); None when the meta
        holds no config text or the text is not Python.
    """
    text = meta.get('cfg') if isinstance(meta, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    found = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and \
                len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name) and \
                statement.targets[0].id in RUN_IDENTITY_KEYS:
            found[statement.targets[0].id] = _literal(statement.value)
    return found


def _plain(value) -> Any:
    """Mappings as dicts and tuples as lists, for comparing."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _differences(old, new, path: str, ignored, found: list) -> None:
    if isinstance(old, _NotLiteral):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if key in ignored:
                continue
            name = f'{path}.{key}'
            _differences(old.get(key, ABSENT), new.get(key, ABSENT), name,
                         ignored, found)
    elif isinstance(old, list) and isinstance(new, list) and \
            len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            _differences(a, b, f'{path}.{index}', ignored, found)
    elif type(old) is not type(new) and not (
            isinstance(old, (int, float)) and isinstance(new, (int, float))
            and not isinstance(old, bool) and not isinstance(new, bool)):
        found.append((path, old, new))
    elif old != new:
        found.append((path, old, new))


def run_config_differences(meta, cfg, resume: bool) -> Optional[List[str]]:
    """How the run that wrote a checkpoint differs from the run of ``cfg``
    in :data:`RUN_IDENTITY_KEYS`.

    Args:
        meta: The checkpoint's ``meta``.
        cfg: The current run's config.
        resume (bool): Leave out :data:`NOT_COMPARED_ON_RESUME`.

    Returns:
        list[str] | None: One line per differing entry, ``KEY: VALUE in
        the checkpoint, VALUE now``; None when the checkpoint records no
        config.
    """
    recorded = recorded_config(meta)
    if recorded is None:
        return None
    ignored = NOT_COMPARED_ON_RESUME if resume else ()
    found = []
    for key in RUN_IDENTITY_KEYS:
        current = cfg.get(key, ABSENT) if hasattr(cfg, 'get') else ABSENT
        _differences(_plain(recorded.get(key, ABSENT)), _plain(current),
                     key, ignored, found)
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = \
        80, 80, 6, 6

    def shown(value) -> str:
        text = short.repr(value)
        return text if len(text) <= 160 else text[:150] + ' ...'

    return [
        f'{path}: {shown(old)} in the checkpoint, {shown(new)} now'
        for path, old, new in found
    ]


def _listed(lines: List[str]) -> str:
    more = len(lines) - SHOWN_DIFFERENCES
    return '; '.join(lines[:SHOWN_DIFFERENCES]) + \
        (f'; and {more} more' if more > 0 else '')


def _has_identity(cfg) -> bool:
    return hasattr(cfg, 'get') and any(
        cfg.get(key) is not None for key in RUN_IDENTITY_KEYS)


def check_resumed_config(meta, cfg, checkpoint: str) -> None:
    """Refuse to resume a checkpoint written by a run whose ``model`` or
    ``optim_wrapper`` differ from ``cfg``'s (the initialization,
    :data:`NOT_COMPARED_ON_RESUME`, aside): it would continue another
    run's weights and optimizer state under this config, or stop in
    MMEngine on the optimizer's parameter groups. A checkpoint that
    records no config is resumed with a warning.

    Args:
        meta: The checkpoint's ``meta``.
        cfg: The resuming run's config.
        checkpoint (str): The checkpoint, for the messages.

    Raises:
        RunConfigMismatchError: Naming each differing entry and its two
            values, and what to do.
    """
    if not _has_identity(cfg):
        return
    differences = run_config_differences(meta, cfg, resume=True)
    if differences is None:
        print_log(
            f'{checkpoint} records no config (meta["cfg"]): whether it was '
            'written with this model and optimizer cannot be checked',
            logger='current', level=30)
    elif differences:
        raise RunConfigMismatchError(
            f'--resume of {checkpoint}: it was written by a run with '
            f'another model or optimizer than this config: '
            f'{_listed(differences)}. Resuming would continue that run\'s '
            'weights and optimizer state under this config (an optimizer '
            'setting such as lr would not even take effect: the '
            'checkpoint\'s optimizer and scheduler states restore it). '
            'Resume with the config that wrote it (the same model and '
            'optim_wrapper; clip_grad, accumulative_counts and loss_scale '
            'may change), or start a new run from its weights: '
            f'--cfg-options load_from={checkpoint} without --resume, in its '
            'own --work-dir.')


def _checkpoint_step(name: str):
    numbers = re.findall(r'\d+', name)
    return (re.sub(r'\d+', '', name), int(numbers[-1]) if numbers else -1,
            name)


def existing_checkpoints(work_dir: str,
                         last: Optional[str] = None) -> List[str]:
    """The run checkpoints a work dir holds (``epoch_N.pth``,
    ``iter_N.pth``, ``best_*.pth``), and those beside ``last`` (the file
    ``last_checkpoint`` names, e.g. in an ``out_dir``), in step order."""
    folders = [work_dir]
    if last and not _is_remote(last) and not same_folder(
            osp.dirname(osp.abspath(last)), work_dir):
        folders.append(osp.dirname(osp.abspath(last)))
    found = []
    for folder in folders:
        for path in glob.glob(osp.join(glob.escape(folder), '*.pth')):
            if re.fullmatch(r'(epoch|iter)_\d+\.pth|best_.+\.pth',
                            osp.basename(path)):
                found.append(path)
    return sorted(found, key=lambda p: (osp.dirname(p),
                                        _checkpoint_step(osp.basename(p))))


def _names(paths: List[str], work_dir: str, shown: int = 10) -> str:
    names = [
        osp.basename(p) if same_folder(osp.dirname(p), work_dir) else p
        for p in paths
    ]
    more = len(names) - shown
    return ', '.join(names[:shown]) + (f' and {more} more'
                                       if more > 0 else '')


def check_fresh_run(cfg, work_dir: str,
                    resumed: Optional[str] = None) -> None:
    """Before a fresh (not resumed) run starts in ``work_dir``: refuse it
    when the work dir's ``last_checkpoint`` names a checkpoint written by a
    run with another ``model`` or ``optim_wrapper`` (the fresh run would
    replace that run's checkpoints of the same names and move
    ``last_checkpoint``, so that its ``--resume`` continued this run);
    otherwise warn, naming the checkpoints the run replaces. Without
    ``last_checkpoint``, the latest ``epoch_N`` / ``iter_N`` checkpoint of
    the work dir stands for its run; nothing is checked in a work dir
    without either.

    Args:
        cfg: The run's config.
        work_dir (str): The run's work dir.
        resumed (str, optional): The checkpoint of another folder that
            the run resumes into ``work_dir`` (see
            :func:`check_resume_target`); None for a fresh run.

    Raises:
        RunConfigMismatchError: Naming the checkpoint, each differing
            entry and its two values, and what to do.
    """
    if not _has_identity(cfg):
        return
    named = read_last_checkpoint(work_dir)
    if named is not None:
        last = named if _is_remote(named) else _own_copy(work_dir, named)
        where = f'{osp.join(work_dir, LAST_CHECKPOINT)} names {last}'
    else:  # the run's checkpoints without last_checkpoint: its latest
        steps = [path for path in existing_checkpoints(work_dir)
                 if not osp.basename(path).startswith('best_')]
        if not steps:
            return
        last = steps[-1]
        where = f'its latest checkpoint is {last} (no last_checkpoint)'
    existing = existing_checkpoints(work_dir, last)
    replaced = (f'The checkpoints there ({_names(existing, work_dir)}) '
                'are replaced where this run writes the same names, and '
                'last_checkpoint will name this run\'s. '
                if existing else '')
    advice = ('Add --resume to continue that run instead, or give this run '
              'its own --work-dir to keep them.')
    start = f'this run starts fresh in {work_dir}'
    fix = ('Give this run its own --work-dir, or continue that run with '
           '--resume and the config that wrote it.')
    if resumed is not None:
        start = f'this run (--resume of {resumed}) writes into {work_dir}'
        advice = fix = ('Give this run its own --work-dir (an empty one, or '
                        'the folder of the resumed checkpoint).')
    differences = None
    why = 'it records no config (meta["cfg"])'
    if _is_remote(last) or not osp.isfile(last):
        why = 'it is not a local file'
    else:
        from ..utils.checkpoint_compat import load_local_checkpoint
        try:
            checkpoint = load_local_checkpoint(last, map_location='cpu')
        except Exception as error:  # noqa: B902  (cannot compare: a warning)
            why = f'it cannot be read ({type(error).__name__}: ' \
                f'{str(error)[:200]})'
        else:
            meta = checkpoint.get('meta') if isinstance(checkpoint,
                                                        dict) else None
            differences = run_config_differences(meta, cfg, resume=False)
    if differences:
        raise RunConfigMismatchError(
            f'{start}, which holds the '
            f'checkpoints of another run: {where}, written with another '
            f'model or optimizer than this config: {_listed(differences)}. '
            f'{replaced}{fix}')
    if differences is None:
        print_log(
            f'{start}, which holds checkpoints '
            f'of an earlier run: {where}, and whether that run had this '
            f'model and optimizer cannot be checked ({why}). {replaced}'
            f'{advice}', logger='current', level=30)
    else:
        print_log(
            f'{start}, which holds checkpoints '
            f'of an earlier run with this model and optimizer ({where}). '
            f'{replaced}{advice}', logger='current', level=30)


class UnnamedCheckpointsError(RuntimeError):
    """``--resume`` without a checkpoint in a work dir that has no
    ``last_checkpoint`` but holds checkpoints of a run."""


def check_auto_resume(work_dir: str,
                      checkpoint_cfg: Optional[dict] = None) -> None:
    """Before a run with ``resume`` and no checkpoint (``--resume``
    without a path) starts in ``work_dir``, which has no
    ``last_checkpoint``: refuse it when the run's checkpoint folder holds
    checkpoints (``epoch_N`` / ``iter_N``, the names of the hook's
    ``filename_tmpl``, ``best_*``; in the work dir, or in
    ``out_dir/<work dir name>`` when the hook has an ``out_dir``). A run
    killed after its first checkpoint and before ``last_checkpoint``
    leaves them so; the runner would start afresh and replace them.

    Args:
        work_dir (str): The run's work dir.
        checkpoint_cfg (dict, optional): The checkpoint hook's config
            (``default_hooks.checkpoint``): its ``out_dir`` and
            ``filename_tmpl``.

    Raises:
        UnnamedCheckpointsError: Naming the checkpoints and how to go on.
    """
    if _is_remote(work_dir):
        return
    checkpoint_cfg = checkpoint_cfg or {}
    out_dir = checkpoint_cfg.get('out_dir')
    folder = work_dir
    if isinstance(out_dir, str) and out_dir and not _is_remote(out_dir):
        folder = osp.join(out_dir, osp.basename(work_dir.rstrip(os.sep)))
    found = existing_checkpoints(work_dir)
    if not same_folder(folder, work_dir):
        found += existing_checkpoints(folder)
    template = checkpoint_cfg.get('filename_tmpl')
    if isinstance(template, str) and template and osp.isdir(folder):
        named = checkpoint_name_pattern(template)
        names = os.listdir(folder)
        steps = {
            name: int(match.group(1)) if match.groups() else 0
            for name in names
            for match in [re.fullmatch(named, name)] if match
        }  # best_* last, as existing_checkpoints orders them
        best = [name for name in names
                if re.fullmatch(r'best_.+_' + named, name)]
        found += [osp.join(folder, name)
                  for name in sorted(steps, key=steps.get) + sorted(best)]
    found = list(dict.fromkeys(found))
    if not found:
        return
    steps = [path for path in found
             if not osp.basename(path).startswith('best_')]
    latest = (steps or found)[-1]
    raise UnnamedCheckpointsError(
        f'--resume without a checkpoint continues the one '
        f'{osp.join(work_dir, LAST_CHECKPOINT)} names, and there is no '
        f'such file, but {work_dir} holds checkpoints of a run '
        f'({_names(found, work_dir)}; a run stopped before it wrote '
        'last_checkpoint leaves them so). Starting afresh would replace '
        'them, so nothing was written. Continue that run with --resume '
        f'{latest}, or give this run another --work-dir.')


def check_resume_target(cfg, work_dir: str, resumed: str) -> None:
    """Before a run resumes ``resumed`` into ``work_dir``: unless it is
    the file the work dir's ``last_checkpoint`` names, :func:`check_fresh_run`
    of the run the work dir holds (wherever ``resumed`` lies: a file copied
    or linked into the work dir is no proof that it is that run's), since
    this one will write its checkpoints and ``last_checkpoint`` there.

    Args:
        cfg: The run's config.
        work_dir (str): The run's work dir.
        resumed (str): The checkpoint the run resumes.
    """
    named = read_last_checkpoint(work_dir)
    if _is_remote(resumed):
        return
    if named is not None and not _is_remote(named) and osp.isfile(resumed):
        for own in {named, _own_copy(work_dir, named)}:
            if osp.isfile(own) and osp.samefile(own, resumed):
                return  # the work dir's own last checkpoint (or its copy)
    check_fresh_run(cfg, work_dir, resumed=resumed)


def check_work_dir_run(cfg) -> None:
    """The checks of a run about to start in ``cfg.work_dir``, as the
    runner will start it: :func:`check_resumed_config` of the checkpoint
    it resumes (``load_from`` with ``resume``, or with ``resume`` alone the
    file ``last_checkpoint`` names), else :func:`check_fresh_run`. A
    remote checkpoint to resume is checked by
    :class:`~mmropim.engine.SafeCheckpointHook` once loaded.

    Args:
        cfg: The run's config, with ``work_dir``.
    """
    work_dir = cfg.work_dir
    if not cfg.get('resume'):
        check_fresh_run(cfg, work_dir)
        return
    resumed = cfg.get('load_from') or read_last_checkpoint(work_dir)
    if resumed is None:
        # nothing to resume: a fresh work dir, unless it holds checkpoints
        check_auto_resume(work_dir, (cfg.get('default_hooks')
                                     or {}).get('checkpoint'))
        return
    if cfg.get('load_from'):
        check_resume_target(cfg, work_dir, resumed)
    if _is_remote(resumed) or not _has_identity(cfg):
        return
    from ..utils.checkpoint_compat import load_local_checkpoint
    checkpoint = load_local_checkpoint(resumed, map_location='cpu')
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    check_resumed_config(meta, cfg, resumed)


def check_work_dir_path(cfg) -> None:
    """Refuse a ``work_dir`` that is a file, and a symbolic or hard link
    where the runner writes its copy of the config
    (``work_dir/<config name>``), which it would write through, before
    anything is written.

    Args:
        cfg: The run's config, with ``work_dir`` (local).

    Raises:
        NotADirectoryError: ``work_dir`` is an existing file.
        FileExistsError: The config's copy would be written through a
            symbolic link; naming the link and its target.
    """
    work_dir = cfg.work_dir
    if _is_remote(work_dir):
        return
    if osp.lexists(work_dir) and not osp.isdir(work_dir):
        raise NotADirectoryError(
            f'work_dir {work_dir} is a file, not a folder: give --work-dir '
            'a folder (it is created if missing)')
    filename = getattr(cfg, 'filename', None)
    if filename:
        copy = osp.join(work_dir, osp.basename(filename))
        if osp.islink(copy):
            raise FileExistsError(
                f'{copy} is a symbolic link (to {os.readlink(copy)}): the '
                'runner writes its copy of the config there and would '
                'write through the link; remove the link or give this run '
                'another --work-dir')
        if osp.isfile(copy) and os.stat(copy).st_nlink > 1:
            raise FileExistsError(
                f'{copy} is a hard link ({os.stat(copy).st_nlink} names for '
                'one file): the runner writes its copy of the config there '
                'and would change the file under its other names too; '
                'remove it or give this run another --work-dir')


def claim_work_dir(cfg):
    """What ``tools/train.py`` does before it builds the runner (which
    writes a copy of the config and a log folder into the work dir): on
    the main process, take the work dir's lock
    (:class:`~mmropim.engine.run_lock.RunLock`; the checkpoint hook then
    shares it) and run :func:`check_work_dir_run`.

    Args:
        cfg: The run's config, with ``work_dir`` and ``launcher``.

    Returns:
        RunLock | None: The lock taken (None on other processes); release
        it when training ends (it is also released when the process
        exits).
    """
    from .run_lock import RunLock, is_launcher_main_process
    if not is_launcher_main_process(cfg.get('launcher', 'none')):
        return None
    check_work_dir_path(cfg)
    lock = RunLock(cfg.work_dir)
    lock.acquire()
    try:
        check_work_dir_run(cfg)
    except BaseException:
        lock.release()
        raise
    return lock


__all__ = [
    'LAST_CHECKPOINT', 'VALIDATION_RECORD', 'same_folder',
    'checkpoint_name_pattern', 'is_own_checkpoint', 'check_deletable',
    'check_run_state', 'read_last_checkpoint', 'find_resume_checkpoint',
    'read_validation_record', 'validation_record', 'RUN_IDENTITY_KEYS',
    'NOT_COMPARED_ON_RESUME', 'RunConfigMismatchError', 'recorded_config',
    'run_config_differences', 'check_resumed_config',
    'existing_checkpoints', 'check_fresh_run', 'UnnamedCheckpointsError',
    'check_auto_resume', 'check_resume_target',
    'check_work_dir_run', 'check_work_dir_path',
    'claim_work_dir'
]
