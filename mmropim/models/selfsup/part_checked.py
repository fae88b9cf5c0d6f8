from typing import Dict, Tuple

from mmpretrain.models import BaseSelfSupervisor


class PartCheckedSelfSupervisor(BaseSelfSupervisor):
    """A self-supervisor that refuses, when it is built, parts that cannot
    work with it.

    A subclass lists in ``required_parts`` the class each part must be an
    instance of and what to use instead, so that a config which mixes in
    only some of an algorithm's parts (e.g. ``PRMIM`` with the stock
    ``MAEViT``, which draws its own mask) fails with a message naming the
    part, not deep inside the first step.
    """

    #: part name ('backbone', 'neck', 'head', 'data_preprocessor') ->
    #: (class it must be an instance of, what to use)
    required_parts: Dict[str, Tuple[type, str]] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for part, (cls, advice) in self.required_parts.items():
            module = getattr(self, part, None)
            if not isinstance(module, cls):
                raise TypeError(
                    f'{type(self).__name__} got {type(module).__name__} as '
                    f'its {part}: {advice}')
