# Copyright (c) OpenMMLab. All rights reserved.
"""Each upstream internal named in ``mmropim/compat.py`` still behaves as
it was read: these fail when an MMEngine / MMPretrain release changes it."""
from unittest import mock

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmpretrain.models import BEiTViT, VisionTransformer

from mmropim import compat


def test_history_buffer_pickles_its_arrays_under_the_named_keys():
    buffer = HistoryBuffer([1.5, 2.5], [1, 2], max_length=7)
    state = dict(buffer.__getstate__())
    log_history, count_history = buffer.data
    np.testing.assert_array_equal(state[compat.HISTORY_LOG_KEY], log_history)
    np.testing.assert_array_equal(state[compat.HISTORY_COUNT_KEY],
                                  count_history)
    assert set(state) == {
        compat.HISTORY_LOG_KEY, compat.HISTORY_COUNT_KEY, 'max_length',
        'statistics_methods'
    }


def test_checkpoint_hook_saves_every_step_through_the_named_method():
    steps = []

    class Recorder(compat.StepCheckpointHook):

        def save_checkpoint_at_step(self, runner, step, meta):
            steps.append((step, meta))

    hook = Recorder(interval=1, by_epoch=True)
    runner = mock.MagicMock(epoch=2, iter=40)
    hook.after_train_epoch(runner)
    assert steps == [(3, dict(epoch=3, iter=40))]

    steps.clear()
    hook = Recorder(interval=1, by_epoch=False)
    hook.after_train_iter(runner, batch_idx=0)
    assert steps == [(41, dict(epoch=2, iter=41))]


def test_the_default_step_save_is_mmengines():
    with mock.patch('mmengine.hooks.CheckpointHook._save_checkpoint_with_step'
                    ) as upstream:
        hook = compat.StepCheckpointHook(interval=1)
        hook.save_checkpoint_at_step('runner', 5, dict(epoch=5))
    upstream.assert_called_once_with('runner', 5, dict(epoch=5))


class _PosEmbedProbe(compat.PosEmbedLoadHook, VisionTransformer):
    calls = []

    def prepare_pos_embed(self, state_dict, prefix, *args, **kwargs):
        self.calls.append(prefix)
        super().prepare_pos_embed(state_dict, prefix, *args, **kwargs)


def test_vision_transformer_loads_pos_embed_through_the_named_hook():
    model = _PosEmbedProbe(arch='deit-tiny', img_size=32, patch_size=8)
    other = VisionTransformer(arch='deit-tiny', img_size=48, patch_size=8)
    _PosEmbedProbe.calls.clear()
    model.load_state_dict(other.state_dict())
    assert _PosEmbedProbe.calls == ['']
    # and MMPretrain's own hook ran after ours: 6x6 resized to 4x4
    assert model.pos_embed.shape == (1, 17, 192)


class _RelativeTableProbe(compat.RelativePositionTableLoadHook, BEiTViT):
    calls = []

    def prepare_relative_position_bias_table(self, state_dict, prefix, *args,
                                             **kwargs):
        self.calls.append(prefix)
        super().prepare_relative_position_bias_table(state_dict, prefix,
                                                     *args, **kwargs)


def test_beit_loads_relative_tables_through_the_named_hook():
    kwargs = dict(arch='deit-tiny', img_size=32, patch_size=8,
                  use_abs_pos_emb=False, use_rel_pos_bias=True)
    model = _RelativeTableProbe(**kwargs)
    state = BEiTViT(**kwargs).state_dict()
    # MMPretrain's hook copies a shared table into every layer
    shared = state['layers.0.attn.relative_position_bias_table'].clone()
    for key in [k for k in state if 'relative_position' in k]:
        del state[key]
    state['rel_pos_bias.relative_position_bias_table'] = shared + 1
    state['rel_pos_bias.relative_position_index'] = torch.zeros(1)
    _RelativeTableProbe.calls.clear()
    model.load_state_dict(state, strict=False)
    assert _RelativeTableProbe.calls == ['']
    assert torch.equal(model.layers[2].attn.relative_position_bias_table,
                       shared + 1)


def test_cpu_attention_dispatches_to_the_named_ops():
    from torch.utils._python_dispatch import TorchDispatchMode

    seen = []

    class Record(TorchDispatchMode):

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func.overloadpacket)
            return func(*args, **(kwargs or {}))

    query = torch.randn(1, 2, 16, 8, requires_grad=True)
    with Record():
        out = torch.nn.functional.scaled_dot_product_attention(
            query, query, query)
        out.sum().backward()
    forward, backward = compat.cpu_flash_attention_ops()
    assert forward in seen and backward in seen


def test_config_base_files_resolve_as_mmengine_loads_them():
    from mmengine.config import Config
    config = 'configs/ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py'
    bases = compat.config_base_files(config)
    assert bases and all(path.endswith('.py') for path in bases)
    loaded = Config.fromfile(config)
    for base in bases:
        for key in Config.fromfile(base).keys():
            assert key in loaded, (base, key)


def test_a_registered_package_resolves_its_config_names(tmp_path):
    from mmengine.config import utils as config_utils

    name = 'mmropim_probe'
    with mock.patch.dict(config_utils.MODULE2PACKAGE):
        try:
            config_utils._get_package_and_cfg_path(f'{name}::a/b.py')
        except AssertionError:
            pass
        else:
            raise AssertionError('MMEngine resolves unregistered packages: '
                                 'register_config_package is not needed')
        compat.register_config_package(name)
        assert config_utils._get_package_and_cfg_path(
            f'{name}::a/b.py') == (name, 'a/b.py')
        installed = tmp_path / name
        (installed / '.mim' / 'configs' / 'a').mkdir(parents=True)
        (installed / '.mim' / 'configs' / 'a' / 'b.py').write_text('x = 1\n')
        found = config_utils._get_external_cfg_base_path(
            str(installed), 'a/b.py')
        assert found == str(installed / '.mim' / 'configs' / 'a' / 'b.py')
    assert name not in config_utils.MODULE2PACKAGE


def test_an_infinite_sampler_restarts_from_its_first_index():
    """Its iterators share one stream of indices: closing one iterator
    closes the stream; the restarted sampler yields the same indices as a
    new one from its start."""
    from mmengine.dataset import InfiniteSampler
    sampler = InfiniteSampler(list(range(10)), shuffle=True, seed=3)
    first = iter(sampler)
    drawn = [next(first) for _ in range(4)]
    first.close()
    assert list(iter(sampler)) == []  # the shared stream went with it
    compat.restart_infinite_sampler(sampler)
    again = iter(sampler)
    assert [next(again) for _ in range(4)] == drawn


def test_a_persistent_loader_starts_new_workers_once_forgotten():
    from torch.utils.data import DataLoader
    loader = DataLoader(list(range(4)), num_workers=1,
                        persistent_workers=True)
    first = iter(loader)
    assert iter(loader) is first  # reset, the same workers
    compat.forget_persistent_workers(loader)
    second = iter(loader)
    assert second is not first
    assert [int(batch) for batch in second] == [0, 1, 2, 3]


def test_a_state_dict_carries_only_the_named_attribute():
    state_dict = torch.nn.Sequential(torch.nn.Linear(2, 2)).state_dict()
    assert set(vars(state_dict)) == {compat.STATE_DICT_METADATA}


def test_amp_step_updates_the_scaler_with_the_named_attribute():
    from mmengine.optim import AmpOptimWrapper
    wrapper = mock.Mock()
    setattr(wrapper, compat.AMP_FIXED_SCALE, 7.0)
    wrapper.should_update.return_value = True
    AmpOptimWrapper.step(wrapper)
    wrapper.loss_scaler.update.assert_called_once_with(7.0)


def test_an_iteration_loop_iterator_is_rebuilt_from_its_loader():
    from mmengine.runner.loops import _InfiniteDataloaderIterator
    from torch.utils.data import DataLoader
    loader = DataLoader(list(range(3)))
    first = _InfiniteDataloaderIterator(loader)
    again = compat.restart_loop_iterator(first, loader)
    assert type(again) is type(first) and again is not first
    assert [int(next(again)) for _ in range(4)] == [0, 1, 2, 0]
