"""Run state as data that ``torch.load(weights_only=True)`` accepts.

An MMEngine run checkpoint pickles the message hub: ``HistoryBuffer``
objects holding numpy arrays, and numpy scalars in the runtime information.
The safe unpickler refuses those globals, so resuming such a file means
unpickling it fully, which can run any code the file carries.
:func:`to_plain` writes that state as dicts, lists, numbers, strings and
tensors instead, and :func:`from_plain` rebuilds it
(:class:`mmropim.engine.SafeCheckpointHook` calls them).
"""
from collections import Counter, OrderedDict, deque
from typing import Any, Callable

import numpy as np
from mmengine.logging import HistoryBuffer

# key of the dicts that stand for a non-plain object in a plain checkpoint
TAG = '__mmropim_plain__'


def _numpy_array(array: np.ndarray) -> dict:
    if array.dtype.hasobject:
        raise TypeError('cannot store a numpy array of Python objects in a '
                        f'plain checkpoint (dtype {array.dtype})')
    return {TAG: 'ndarray', 'dtype': array.dtype.str,
            'shape': list(array.shape), 'data': array.ravel().tolist()}


def _map_items(value: Any, convert: Callable[[Any], Any]) -> Any:
    """``convert`` applied to every item of a dict, list or plain tuple (a
    dict subclass other than ``OrderedDict`` becomes a ``dict``); any other
    value unchanged."""
    if isinstance(value, dict):
        mapped = type(value)() if type(value) in (dict, OrderedDict) else {}
        for key, item in value.items():
            mapped[key] = convert(item)
        return mapped
    if isinstance(value, list):
        return [convert(v) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(convert(v) for v in value)
    return value


def to_plain(value: Any) -> Any:
    """A copy of ``value`` made of what the safe unpickler accepts.

    Dicts (``OrderedDict`` kept, other dict subclasses become ``dict``),
    lists, tuples, strings, numbers, ``None`` and tensors are kept; numpy
    arrays, numpy scalars, ``Counter``, ``deque`` and MMEngine's
    ``HistoryBuffer`` become tagged dicts that :func:`from_plain` turns
    back into equal objects. Other objects (namedtuples, functions, e.g.
    ``OneCycleParamScheduler``'s) are kept as they are, and the safe
    unpickler will refuse the file.

    Args:
        value: A checkpoint or a part of it.

    Returns:
        The plain copy.
    """
    if isinstance(value, HistoryBuffer):
        log_history, count_history = value.data
        return {TAG: 'HistoryBuffer', 'max_length': value.max_length,
                'log_history': _numpy_array(log_history),
                'count_history': _numpy_array(count_history)}
    if isinstance(value, np.ndarray):
        return _numpy_array(value)
    if isinstance(value, np.generic):
        return {TAG: 'numpy_scalar', 'dtype': value.dtype.str,
                'value': value.item()}
    if isinstance(value, Counter):  # e.g. MultiStepLR's milestones
        return {TAG: 'Counter',
                'items': [[to_plain(k), to_plain(v)]
                          for k, v in value.items()]}
    if isinstance(value, deque):
        return {TAG: 'deque', 'maxlen': value.maxlen,
                'items': [to_plain(v) for v in value]}
    return _map_items(value, to_plain)


def from_plain(value: Any) -> Any:
    """Undo :func:`to_plain`.

    Args:
        value: A loaded checkpoint or a part of it.

    Returns:
        The value with every tagged dict rebuilt.
    """
    if isinstance(value, dict):
        kind = value.get(TAG)
        if kind == 'ndarray':
            return np.array(value['data'], dtype=np.dtype(
                value['dtype'])).reshape(value['shape'])
        if kind == 'numpy_scalar':
            return np.dtype(value['dtype']).type(value['value'])
        if kind == 'Counter':
            return Counter({from_plain(k): from_plain(v)
                            for k, v in value['items']})
        if kind == 'deque':
            return deque((from_plain(v) for v in value['items']),
                         maxlen=value['maxlen'])
        if kind == 'HistoryBuffer':
            return HistoryBuffer(from_plain(value['log_history']),
                                 from_plain(value['count_history']),
                                 max_length=value['max_length'])
        if kind is not None:
            raise ValueError(f'unknown {TAG} entry {kind!r} in a checkpoint '
                             '(written by a newer mmropim?)')
    return _map_items(value, from_plain)
