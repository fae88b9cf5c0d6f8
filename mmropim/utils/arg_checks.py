"""Constructor argument checks: a bad value raises when the component is
built, with a message naming the argument, the value and what is allowed."""
import numbers
import warnings


def check_positive_int(value, name: str) -> None:
    """Raise a clear error unless ``value`` is an integer >= 1.

    Args:
        value: The argument's value (a bool is not an integer here).
        name (str): The argument's name, for the message.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')


_UNSET = object()


def renamed_argument(owner: str, old_name: str, old_value, new_name: str,
                     new_value, new_default):
    """The value of an argument renamed to MMPretrain's name, accepting the
    old name for one release with a ``FutureWarning`` (shown by default,
    unlike a ``DeprecationWarning`` raised from inside MMEngine's builder).

    Args:
        owner (str): The component, for the messages.
        old_name (str): The deprecated name.
        old_value: Its value, or :data:`RENAMED_UNSET` when not given.
        new_name (str): The current name.
        new_value: Its value (its default when not given).
        new_default: Its default.

    Returns:
        The value to use: the old name's when it was given.

    Raises:
        TypeError: When both names are given (the new one not at its
            default).
    """
    if old_value is _UNSET:
        return new_value
    if new_value != new_default:
        raise TypeError(
            f'{owner}: give {new_name} only ({old_name} is its old name), '
            f'got {new_name}={new_value!r} and {old_name}={old_value!r}')
    warnings.warn(
        f'{owner}: {old_name} is renamed to {new_name} (MMPretrain\'s name); '
        f'{old_name} will be removed in the next release',
        FutureWarning,
        stacklevel=3)
    return old_value


RENAMED_UNSET = _UNSET


def config_type_name(cfg) -> str:
    """The class name a component config's ``type`` names: a string without
    its scope prefix (``'mmpretrain.FurthestSampling'`` ->
    ``'FurthestSampling'``), or the name of a class given as the type; ``''``
    for anything else."""
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return name.split('.')[-1]
