"""Shared by the config checks: their errors, the typo distance and the
"did you mean", the registry look-ups and the argument check of a class."""
import difflib
import inspect
import numbers
from typing import Iterable, List, Optional


class ConfigKeyError(KeyError):
    """A config key that nothing reads."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ConfigValueError(ValueError):
    """A config value that would stop the run late or change nothing."""


# runner keys this long are refused two typos away (shorter: one)
TWO_TYPOS_MIN_LENGTH = 9


def one_typo_apart(first: str, second: str) -> bool:
    """Whether ``second`` is ``first`` with one letter added, dropped or
    changed, or two neighbouring letters swapped."""
    if first == second or abs(len(first) - len(second)) > 1:
        return False
    if len(first) == len(second):
        wrong = [i for i, (a, b) in enumerate(zip(first, second)) if a != b]
        return len(wrong) == 1 or (
            len(wrong) == 2 and wrong[1] == wrong[0] + 1
            and first[wrong[0]] == second[wrong[1]]
            and first[wrong[1]] == second[wrong[0]])
    shorter, longer = sorted((first, second), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter
               for i in range(len(longer)))


def edit_distance(first: str, second: str) -> int:
    """Letters added, dropped or changed, or neighbours swapped, to turn
    ``first`` into ``second`` (optimal string alignment distance)."""
    rows = [list(range(len(second) + 1))]
    for i, a in enumerate(first, 1):
        row = [i]
        for j, b in enumerate(second, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1,
                           rows[-1][j - 1] + (a != b)))
            if i > 1 and j > 1 and a == second[j - 2] and \
                    first[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def typo_of(name: str, key: str) -> bool:
    """Whether ``name`` looks like a misspelt ``key``: another name that is,
    ignoring case, one typo from it, or two from a key of
    :data:`TWO_TYPOS_MIN_LENGTH` letters or more."""
    if name == key:
        return False
    lower = name.lower()
    return lower == key or one_typo_apart(lower, key) or (
        len(key) >= TWO_TYPOS_MIN_LENGTH and edit_distance(lower, key) <= 2)


def did_you_mean(key: str, choices: Iterable[str]) -> str:
    """``"did you mean 'a' or 'b'? "`` for the choices close to ``key``, or
    an empty string."""
    matches = close_matches(key, choices)
    return (f'did you mean {" or ".join(map(repr, matches))}? '
            if matches else '')


def close_matches(name: str, known: Iterable[str],
                  cutoff: float = 0.6) -> List[str]:
    """Up to three names of ``known`` most like ``name`` (difflib)."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=cutoff)


def _registered_class(registry, kind, scope: Optional[str]):
    """The class a config ``type`` names in ``registry`` under the
    config's default scope; None if it names none."""
    if not isinstance(kind, str):
        return kind if inspect.isclass(kind) else None
    try:
        with registry.switch_scope_and_registry(scope) as scoped:
            return scoped.get(kind)
    except Exception:  # an unknown scope: the runner reports it
        return None


def _registered_names(registry, scope: Optional[str]) -> List[str]:
    """The names ``registry`` finds under ``scope`` (its own and its
    parents'), after it imported its locations; empty for an unknown
    scope."""
    try:
        with registry.switch_scope_and_registry(scope) as scoped:
            names, node = set(), scoped
            while node is not None:
                names |= set(node.module_dict)
                node = node.parent
            return sorted(names)
    except Exception:  # an unknown scope: the runner reports it
        return []


def init_arguments(cls) -> Optional[List[str]]:
    """The keyword arguments building ``cls`` takes: those of its and its
    bases' ``__init__`` up to the first that takes no ``**kwargs``; None
    when the ``**kwargs`` go elsewhere (unknown here)."""
    names = set()
    for base in inspect.getmro(cls):
        init = base.__dict__.get('__init__')
        if init is None:
            continue
        if base is object:
            return [] if not names else None
        parameters = inspect.signature(init).parameters.values()
        names |= {p.name for p in parameters
                  if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return sorted(names - {'self'})
    return None


def check_arguments(cls, given: Iterable[str], where: str,
                    set_by_builder: Iterable[str] = (),
                    read_by_builder: Iterable[str] = ()) -> None:
    """Refuse config keys that building ``cls`` would not take (a
    ``TypeError`` when the runner builds it, after it has written to the
    work dir); nothing when its ``**kwargs`` go elsewhere.

    Args:
        cls (type): The class the config builds.
        given (Iterable[str]): The config's keys (``type`` and registry
            keys such as ``_scope_`` are skipped).
        where (str): Where the config is, for the message.
        set_by_builder (Iterable[str]): Arguments the runner passes itself.
        read_by_builder (Iterable[str]): Keys the builder takes out of the
            config before it builds ``cls`` (accepted too).

    Raises:
        ConfigKeyError: Naming the key, the close accepted ones and all of
            them.
    """
    accepted = init_arguments(cls)
    if accepted is None:
        return
    refuse_unknown_arguments(
        cls.__name__, [name for name in accepted
                       if name not in set_by_builder] + list(read_by_builder),
        [name for name in given if name != 'type'], where)


def refuse_unknown_arguments(
        taker: str, accepted: List[str], given: Iterable[str], where: str,
        when: str = 'when the runner builds it') -> None:
    """Refuse a config key that is not among the arguments ``taker``
    accepts (keys starting with '_', such as ``_scope_``, are skipped).

    Args:
        taker (str): What takes the arguments, for the message.
        accepted (List[str]): The arguments it takes.
        given (Iterable[str]): The config's keys.
        where (str): Where the config is, for the message.
        when (str): When the ``TypeError`` would come. Defaults to
            'when the runner builds it'.

    Raises:
        ConfigKeyError: Naming the key, the close accepted ones and all of
            them.
    """
    for name in given:
        if name in accepted or str(name).startswith('_'):
            continue
        raise ConfigKeyError(
            f'{where} sets {name!r}, which {taker} does not take (the '
            f'run would stop with a TypeError {when}, after writing to the '
            f'work dir); {did_you_mean(name, accepted)}it takes '
            f'{", ".join(map(repr, accepted)) or "no arguments"}')


def _short(value, length: int = 80) -> str:
    """``repr(value)``, cut to ``length`` characters."""
    text = repr(value.to_dict() if hasattr(value, 'to_dict') else value)
    return text if len(text) <= length else text[:length - 3] + '...'


def _is_count(value) -> bool:
    """Whether ``value`` is a whole number >= 1 (not a bool)."""
    return not isinstance(value, bool) and (
        isinstance(value, numbers.Integral) or isinstance(value, float)
        and value.is_integer()) and value >= 1
