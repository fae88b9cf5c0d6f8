"""Constructor argument checks: a bad value raises when the component is
built, with a message naming the argument, the value and what is allowed."""
import numbers


def check_positive_int(value, name: str) -> None:
    """Raise a clear error unless ``value`` is an integer >= 1.

    Args:
        value: The argument's value (a bool is not an integer here).
        name (str): The argument's name, for the message.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')


def config_type_name(cfg) -> str:
    """The class name a component config's ``type`` names: a string without
    its scope prefix (``'mmpretrain.FurthestSampling'`` ->
    ``'FurthestSampling'``), or the name of a class given as the type; ``''``
    for anything else."""
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return name.split('.')[-1]
