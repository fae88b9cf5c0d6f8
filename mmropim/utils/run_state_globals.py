"""The few globals a stock MMEngine run checkpoint pickles, allowed for the
duration of one safe load.

MMEngine's own ``CheckpointHook`` (what MMPretrain's ``tools/train.py``
writes) pickles the message hub: :class:`~mmengine.logging.HistoryBuffer`
objects holding numpy arrays, and numpy scalars / dtypes in the runtime
info. ``torch.load(weights_only=True)`` refuses them. Besides the class and
numpy's array, scalar and dtype rebuilders, such a file calls the builtin
``getattr``: ``HistoryBuffer.__getstate__`` stores the class's statistics
methods, which pickle (protocol 2) as ``getattr(HistoryBuffer, 'min')``,
``'max'``, ``'current'`` and ``'mean'``. The real ``getattr`` reaches any
function's ``__globals__`` and from there ``os.system``, so it is replaced
by :func:`run_state_getattr`, which answers those four pairs only.

``HistoryBuffer.__setstate__`` would also copy whatever the file puts under
``statistics_methods`` into the class-wide table of every buffer of the
process; :class:`RunStateHistoryBuffer` stands in for the class while
unpickling, checks the state, and turns into a plain ``HistoryBuffer``.

numpy's pickled state of a dtype can give any dtype fields, a subarray,
flags (a float64 with an object field over raw bytes, whose items are then
read as pointers) or datetime metadata that crashes numpy's own
``__setstate__``, and its array rebuilders take any dtype.
:class:`RunStateDType`, :class:`RunStateArray`, :func:`run_state_reconstruct`
and :func:`run_state_scalar` stand in for them: no dtype state from a file
reaches numpy; it must be exactly what numpy writes for a dtype of a run
state (bool and numbers), and numpy builds that dtype from its code and
byte order; arrays come from bytes only.

:func:`allow_mmengine_run_state` adds these to PyTorch's safe globals as a
context, for one load; nothing is added for good (PyTorch's
``add_safe_globals`` would change every later ``torch.load`` of the
process).
"""
import contextlib
import pickle
import re
from typing import Callable, Iterator, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from ..compat import HISTORY_COUNT_KEY, HISTORY_LOG_KEY

HISTORY_BUFFER_NAME = 'mmengine.logging.history_buffer.HistoryBuffer'
# the statistics HistoryBuffer registers for itself; MMEngine pickles them
STATISTICS_METHODS = ('min', 'max', 'current', 'mean')
HISTORY_BUFFER_FIELDS = ('max_length', HISTORY_LOG_KEY, HISTORY_COUNT_KEY)
# numpy's array / scalar rebuilders under the module names numpy 2 (numpy.
# _core) and numpy 1 (numpy.core) write into pickles
NUMPY_MODULES = ('numpy._core.multiarray', 'numpy.core.multiarray')
# how numpy's pickling names the dtypes of a run state (numpy's RNG state,
# HistoryBuffer arrays, numbers in the runtime info): bool, signed and
# unsigned integers, floats and complex numbers, by kind and size ('b1',
# 'u4', 'f8', 'c16'); no strings, dates, objects or records
PLAIN_DTYPE_CODE = re.compile(r'[biufc][0-9]{1,2}')
PLAIN_DTYPE_KINDS = 'biufc'
# NoneType, for comparing states item by item and type by type
_NONE_TYPE = type(None)


class RunStateHistoryBuffer(HistoryBuffer):
    """What the safe unpickler builds for ``HistoryBuffer``: it accepts only
    a buffer's own fields, with the default statistics methods, and then
    becomes a plain :class:`~mmengine.logging.HistoryBuffer`.

    Never constructed directly; building one by a call from the file is
    refused (MMEngine never pickles it that way).
    """

    def __init__(self, *args, **kwargs):
        raise pickle.UnpicklingError(
            'a checkpoint calls HistoryBuffer(...) directly; MMEngine never '
            'writes that, so it is not rebuilt')

    def __setstate__(self, state) -> None:
        """Check and set the fields of a pickled ``HistoryBuffer``.

        Args:
            state (dict): ``HistoryBuffer.__getstate__``'s dict:
                ``max_length`` (int), the log and count histories (numpy
                arrays of numbers, named as in :mod:`mmropim.compat`) and
                ``statistics_methods`` (name -> function).

        Raises:
            pickle.UnpicklingError: Naming what is not a buffer's field.
        """
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(
                f'a HistoryBuffer state must be a dict, not {type(state)}')
        extra = set(state) - set(HISTORY_BUFFER_FIELDS) - {
            'statistics_methods'
        }
        if extra:
            raise pickle.UnpicklingError(
                f'a HistoryBuffer state carries {sorted(map(str, extra))}; '
                f'only {list(HISTORY_BUFFER_FIELDS)} and statistics_methods '
                'are rebuilt')
        methods = state.get('statistics_methods', {})
        if not isinstance(methods, dict) or any(
                name not in STATISTICS_METHODS
                or method is not getattr(HistoryBuffer, name)
                for name, method in methods.items()):
            raise pickle.UnpicklingError(
                'a HistoryBuffer state lists statistics methods other than '
                f'HistoryBuffer.{"/".join(STATISTICS_METHODS)}: '
                f'{methods!r}; they would be installed for every buffer of '
                'the process, so the file is not rebuilt')
        max_length = state.get('max_length')
        if type(max_length) is not int or max_length < 1:
            raise pickle.UnpicklingError(
                'a HistoryBuffer state needs an int max_length >= 1, not '
                f'{max_length!r}')
        for field in (HISTORY_LOG_KEY, HISTORY_COUNT_KEY):
            value = state.get(field)
            if not isinstance(value, np.ndarray) or value.ndim != 1 \
                    or value.dtype.kind not in 'biuf':
                raise pickle.UnpicklingError(
                    f'a HistoryBuffer state needs {field} as a 1-d numpy '
                    f'array of numbers, not {type(value).__name__} '
                    f'{getattr(value, "dtype", "")}')
        log_history = state[HISTORY_LOG_KEY]
        count_history = state[HISTORY_COUNT_KEY]
        if len(log_history) != len(count_history):
            raise pickle.UnpicklingError(
                f'a HistoryBuffer state has a {HISTORY_LOG_KEY} of '
                f'{len(log_history)} values and a {HISTORY_COUNT_KEY} of '
                f'{len(count_history)}; they pair up')
        # built by MMEngine's constructor, which also registers the default
        # statistics (the class-wide table takes nothing from the file)
        rebuilt = HistoryBuffer(log_history, count_history,
                                state['max_length'])
        self.__dict__.update(vars(rebuilt))
        self.__class__ = HistoryBuffer


def run_state_getattr(obj, name: str, *default):
    """``getattr`` as a stock MMEngine run checkpoint calls it, and only so.

    Args:
        obj: Must be the ``HistoryBuffer`` class the unpickler handed out.
        name (str): One of ``min``, ``max``, ``current``, ``mean``.

    Returns:
        function: ``HistoryBuffer.<name>``.

    Raises:
        pickle.UnpicklingError: For any other object or name.
    """
    if default or obj not in (HistoryBuffer, RunStateHistoryBuffer) \
            or name not in STATISTICS_METHODS:
        raise pickle.UnpicklingError(
            f'the checkpoint calls getattr({obj!r}, {name!r}); a stock '
            'MMEngine run checkpoint only reads HistoryBuffer.'
            f'{"/".join(STATISTICS_METHODS)} that way, so it is not rebuilt')
    return getattr(HistoryBuffer, name)


class RunStateDType:
    """What the safe unpickler builds for ``numpy.dtype(code, align, copy)``
    and its BUILD: only records them. :meth:`plain` checks them when an
    array or scalar uses the dtype.

    A dtype's pickled state can give any dtype fields, a subarray, flags or
    datetime metadata (a float64 with an object field over raw bytes,
    whose items are then read as pointers; a datetime state that crashes
    numpy's ``__setstate__`` itself). So no state from a file reaches
    numpy: :meth:`plain` compares the recorded code and state, item by
    item, with what numpy's own pickling writes for the dtypes of a run
    state (bool and numbers, either byte order), and gives numpy's dtype
    of that description.
    """

    def __init__(self, *args) -> None:
        # numpy writes (code, False, True)
        self.args, self.state = args, None
        self.plain()

    def __setstate__(self, state) -> None:
        self.state = state
        self.plain()  # refuse a bad state even where nothing uses it

    def plain(self) -> np.dtype:
        """The numpy dtype, checked.

        Returns:
            numpy.dtype: A dtype of a kind in ``PLAIN_DTYPE_KINDS``, built
            by numpy from its code and byte order.

        Raises:
            pickle.UnpicklingError: Naming the code and state when they are
                not what numpy writes for such a dtype.
        """
        args = getattr(self, 'args', ())
        code = args[0] if args else None
        state = getattr(self, 'state', None)
        if len(args) == 3 and type(code) is str \
                and PLAIN_DTYPE_CODE.fullmatch(code) and args[1] is False \
                and type(args[2]) is bool:
            for byte_order in '<>':
                try:
                    candidate = np.dtype(byte_order + code)
                except (TypeError, ValueError):  # no such size
                    break
                written = candidate.__reduce__()
                if candidate.kind in PLAIN_DTYPE_KINDS \
                        and written[1][0] == code \
                        and (state is None or _same(state, written[2])):
                    return candidate
        with_state = '' if state is None else f' with state {_short(state)}'
        raise pickle.UnpicklingError(
            f'a checkpoint pickles numpy.dtype{_short(args)}{with_state}; '
            'only the dtypes of a run state (bool and numbers), as numpy '
            'writes them, are rebuilt')


def _same(value, written) -> bool:
    """Whether ``value`` from a file is ``written`` (numpy's own pickled
    state: a tuple of ints, strings and None), type by type."""
    if type(value) is not type(written):
        return False
    if type(written) is tuple:
        return len(value) == len(written) and all(
            map(_same, value, written))
    return type(written) in (int, str, _NONE_TYPE) and value == written


class RunStateArray(np.ndarray):
    """What the safe unpickler builds for a pickled ``numpy.ndarray``: its
    state must hold a :class:`RunStateDType` and raw bytes, and the array
    gets the checked plain dtype. It pickles as a plain ``ndarray``.

    Never constructed from the file by a call (MMEngine never pickles an
    array that way); :func:`run_state_reconstruct` makes the empty one
    that the state then fills.
    """

    def __new__(cls, *args, **kwargs):
        raise pickle.UnpicklingError(
            'a checkpoint calls numpy.ndarray(...) directly; numpy never '
            'writes that, so it is not rebuilt')

    def __setstate__(self, state) -> None:
        """Check and set the state of a pickled array.

        Args:
            state (tuple): ``(1, shape, dtype, is_fortran, raw bytes)``.

        Raises:
            pickle.UnpicklingError: Naming what numpy does not write for
                an array of a plain dtype.
        """
        if type(state) is not tuple or len(state) != 5 or state[0] != 1 \
                or type(state[1]) is not tuple \
                or not all(type(size) is int for size in state[1]) \
                or type(state[2]) is not RunStateDType \
                or type(state[3]) is not bool or type(state[4]) is not bytes:
            raise pickle.UnpicklingError(
                'a checkpoint pickles a numpy array whose state is not '
                '(1, shape, dtype, is_fortran, bytes) of a plain dtype: '
                f'{_short(state)}')
        try:
            super().__setstate__(
                (1, state[1], state[2].plain(), state[3], state[4]))
        except (TypeError, ValueError) as error:  # e.g. bytes != shape
            raise pickle.UnpicklingError(
                f'a checkpoint pickles an invalid numpy array: {error}'
            ) from None

    def __reduce__(self):
        return np.asarray(self).__reduce__()


def run_state_reconstruct(*args) -> RunStateArray:
    """``numpy.core.multiarray._reconstruct`` as numpy's pickling calls it:
    an empty array that the pickled state then fills.

    Args:
        *args: Must be ``(ndarray, (0,), b'b')``, the ``numpy.ndarray`` the
            unpickler handed out (:class:`RunStateArray`).

    Returns:
        RunStateArray: Empty; its BUILD checks the state.
    """
    if len(args) != 3 or args[0] is not RunStateArray \
            or type(args[1]) is not tuple or args[1] != (0, ) \
            or type(args[2]) is not bytes or args[2] != b'b':
        raise pickle.UnpicklingError(
            f'a checkpoint calls numpy\'s _reconstruct{_short(args)}; numpy '
            'only writes (ndarray, (0,), b"b"), so it is not rebuilt')
    return np.ndarray.__new__(RunStateArray, (0, ), np.int8)


def run_state_scalar(*args) -> np.generic:
    """``numpy.core.multiarray.scalar`` for a plain dtype and its bytes.

    Args:
        *args: ``(dtype, data)``: the pickled dtype
            (:class:`RunStateDType`) and the scalar's bytes.

    Returns:
        numpy.generic: The numpy scalar.
    """
    if len(args) != 2 or type(args[0]) is not RunStateDType \
            or type(args[1]) is not bytes:
        raise pickle.UnpicklingError(
            f'a checkpoint pickles a numpy scalar{_short(args)}; only plain '
            'dtypes from bytes are rebuilt')
    dtype = args[0].plain()
    if len(args[1]) != dtype.itemsize:
        raise pickle.UnpicklingError(
            f'a checkpoint pickles a numpy {dtype} scalar of '
            f'{len(args[1])} bytes, not {dtype.itemsize}')
    return _NUMPY_SCALAR(dtype, args[1])


def run_state_empty_bytes(*args) -> bytes:
    """``bytes()``: how protocol 2 pickles ``b''`` (an empty array's
    data); nothing else."""
    if args:
        raise pickle.UnpicklingError(
            f'a checkpoint calls bytes{_short(args)}; only bytes() (empty) '
            'is rebuilt')
    return b''


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + '...'


# numpy's scalar rebuilder, found through numpy's public pickling
_NUMPY_SCALAR = np.float64(0).__reduce__()[0]


def mmengine_run_state_globals(
) -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals of a stock MMEngine run checkpoint, in the form of
    :func:`torch.serialization.safe_globals`: each under the name the file
    pickles, as a stand-in that checks what the file passes.

    Returns:
        list: (callable, pickled name) pairs.
    """
    allowed: List[Union[Callable, Tuple[Callable, str]]] = [
        (RunStateHistoryBuffer, HISTORY_BUFFER_NAME),
        (run_state_getattr, 'builtins.getattr'),
        (run_state_empty_bytes, 'builtins.bytes'),
        (RunStateArray, 'numpy.ndarray'),
        (RunStateDType, 'numpy.dtype'),
    ]
    for module in NUMPY_MODULES:
        allowed += [(run_state_reconstruct, f'{module}._reconstruct'),
                    (run_state_scalar, f'{module}.scalar')]
    return allowed


@contextlib.contextmanager
def allow_mmengine_run_state() -> Iterator[None]:
    """Allow :func:`mmengine_run_state_globals` in
    ``torch.load(weights_only=True)`` inside the ``with`` block only.

    Globals the process had allowed already stay allowed afterwards. The
    allow-list is PyTorch's, shared by the threads of the process.
    """
    present = torch.serialization.get_safe_globals()
    added = [item for item in mmengine_run_state_globals()
             if item not in present]
    with torch.serialization.safe_globals(added):
        yield
