# Copyright (c) OpenMMLab. All rights reserved.
"""The upstream internals mmropim still relies on, each named once.

Everything here has a name that starts with an underscore in the package
that defines it, so any release may change it. Each entry says where it
was read (MMEngine 0.10.7, MMPretrain 1.2.0, torch 2.14.1) and
``tests/test_compat.py`` fails when the installed package no longer
behaves as read. Nothing else
in mmropim or tools/ touches a private upstream name
(``tests/test_upstream_internals.py`` scans for them).
"""
from typing import List, Tuple

import torch
from mmengine.config import utils as config_utils
from mmengine.hooks import CheckpointHook

#: The versions the entries below were read from.
READ_FROM = dict(mmengine='0.10.7', mmpretrain='1.2.0', torch='2.14.1')

#: The arrays in the state that MMEngine pickles for a ``HistoryBuffer``
#: (``HistoryBuffer.__getstate__`` returns its ``__dict__``: these two,
#: ``max_length`` and ``statistics_methods``;
#: mmengine/logging/history_buffer.py).
HISTORY_LOG_KEY = '_log_history'
HISTORY_COUNT_KEY = '_count_history'

#: The one attribute ``nn.Module.state_dict`` attaches to the dict it
#: returns (per-module versions, which ``load_state_dict`` reads back;
#: torch/nn/modules/module.py).
STATE_DICT_METADATA = '_metadata'

#: What MMEngine's ``AmpOptimWrapper.step`` passes to
#: ``loss_scaler.update``: a fixed loss scale, or None for a dynamic one
#: (set by ``AmpOptimWrapper.__init__``;
#: mmengine/optim/optimizer/amp_optimizer_wrapper.py).
AMP_FIXED_SCALE = '_scale_update_param'


class StepCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with its one saving step public.

    ``CheckpointHook`` saves through ``_save_checkpoint_with_step(runner,
    step, meta)`` both after an epoch / iteration (via
    ``_save_checkpoint``) and for a new best checkpoint's schedule
    (mmengine/hooks/checkpoint_hook.py). Subclasses override
    :meth:`save_checkpoint_at_step` instead.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        self.save_checkpoint_at_step(runner, step, meta)

    def save_checkpoint_at_step(self, runner, step: int, meta: dict) -> None:
        """Write the checkpoint of ``step`` and rotate old ones.

        Args:
            runner (Runner): The runner.
            step (int): The epoch or iteration the file is named after.
            meta (dict): What the checkpoint's ``meta`` records.
        """
        super()._save_checkpoint_with_step(runner, step, meta)


class PosEmbedLoadHook:
    """For subclasses of MMPretrain's ``VisionTransformer`` / ``BEiTViT``:
    the position-embedding hook that their constructors register with
    ``_register_load_state_dict_pre_hook(self._prepare_pos_embed)``
    (mmpretrain/models/backbones/vision_transformer.py, beit.py) calls
    :meth:`prepare_pos_embed`, which subclasses override."""

    def _prepare_pos_embed(self, state_dict, prefix, *args, **kwargs):
        self.prepare_pos_embed(state_dict, prefix, *args, **kwargs)

    def prepare_pos_embed(self, state_dict: dict, prefix: str, *args,
                          **kwargs) -> None:
        """Adapt ``pos_embed`` of a state dict about to load (MMPretrain
        resizes it to the model's grid).

        Args:
            state_dict (dict): The state dict, changed in place.
            prefix (str): The module's prefix in it.
        """
        super()._prepare_pos_embed(state_dict, prefix, *args, **kwargs)


class RelativePositionTableLoadHook:
    """For subclasses of MMPretrain's ``BEiTViT``: the hook its constructor
    registers for relative position tables
    (``_prepare_relative_position_bias_table``, mmpretrain/models/backbones/
    beit.py) calls :meth:`prepare_relative_position_bias_table`, which
    subclasses override."""

    def _prepare_relative_position_bias_table(self, state_dict, prefix, *args,
                                              **kwargs):
        self.prepare_relative_position_bias_table(state_dict, prefix, *args,
                                                  **kwargs)

    def prepare_relative_position_bias_table(self, state_dict: dict,
                                             prefix: str, *args,
                                             **kwargs) -> None:
        """Adapt the relative position tables of a state dict about to load
        (MMPretrain copies a shared table into each layer and resizes).

        Args:
            state_dict (dict): The state dict, changed in place.
            prefix (str): The module's prefix in it.
        """
        super()._prepare_relative_position_bias_table(state_dict, prefix,
                                                      *args, **kwargs)


def cpu_flash_attention_ops() -> Tuple[object, object]:
    """torch's CPU flash-attention forward and backward ops
    (``aten._scaled_dot_product_flash_attention_for_cpu`` and its
    ``_backward``), which ``scaled_dot_product_attention`` dispatches to on
    a CPU and torch's ``FlopCounterMode`` does not count."""
    aten = torch.ops.aten
    return (aten._scaled_dot_product_flash_attention_for_cpu,
            aten._scaled_dot_product_flash_attention_for_cpu_backward)


def config_base_files(filename: str) -> List[str]:
    """The paths of the ``_base_`` files a Python config names, resolved as
    MMEngine resolves them (``Config._get_base_files`` and
    ``Config._get_cfg_path``; ``mmseg::`` style names too).

    Args:
        filename (str): A config file.

    Returns:
        list[str]: Its direct bases.
    """
    from mmengine.config import Config
    return [
        Config._get_cfg_path(base, filename)[0]
        for base in Config._get_base_files(filename)
    ]


def restart_infinite_sampler(sampler) -> None:
    """Start an MMEngine ``InfiniteSampler`` (or subclass) over from its
    first index.

    Its ``__iter__`` yields from one generator that ``__init__`` makes with
    ``_indices_of_rank()`` (mmengine/dataset/sampler.py): every iterator of
    its data loader shares that generator, and dropping one iterator closes
    it for all. A new one from the same seed yields the same indices from
    the start.

    Args:
        sampler (InfiniteSampler): The sampler.
    """
    sampler.indices = sampler._indices_of_rank()


def restart_loop_iterator(iterator, loader):
    """A new iterator like an ``IterBasedTrainLoop``'s
    ``dataloader_iterator`` (MMEngine's ``_InfiniteDataloaderIterator``,
    built from the data loader alone; mmengine/runner/loops.py) over
    ``loader``.

    Args:
        iterator: The loop's ``dataloader_iterator``.
        loader (torch.utils.data.DataLoader): The data loader.
    """
    return type(iterator)(loader)


def forget_persistent_workers(loader) -> None:
    """Make the next ``iter(loader)`` start new worker processes.

    A torch ``DataLoader`` with ``persistent_workers`` keeps its iterator,
    and with it its workers, in ``_iterator`` and resets that one on the
    next ``iter()`` (torch/utils/data/dataloader.py, ``DataLoader.__iter__``);
    with None there it builds a new one. The old workers stop once nothing
    refers to the old iterator.

    Args:
        loader (torch.utils.data.DataLoader): The data loader.
    """
    loader._iterator = None


def register_config_package(module: str = 'mmropim') -> None:
    """Let MMEngine resolve ``module::path`` config names (``_base_ =
    'mmropim::ropim/...'``) to ``<installed module>/.mim/configs/path``.

    MMEngine 0.10.7 resolves only the codebases listed in
    ``mmengine.config.utils.MODULE2PACKAGE`` (``_get_package_and_cfg_path``
    asserts the name is there), a dict of OpenMMLab's own codebases; this
    adds ``module`` to it as its own pip package. Called by our tools before
    they load a config, never on import.

    Args:
        module (str): The importable name, also the pip package's.
    """
    config_utils.MODULE2PACKAGE.setdefault(module, module)
