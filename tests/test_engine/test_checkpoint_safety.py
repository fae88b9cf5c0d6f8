"""Loading a checkpoint never runs code from it unless the user names that
file as trusted: our run checkpoints are plain (SafeCheckpointHook) and load
with torch.load(weights_only=True), stock MMEngine run checkpoints load with
their run state allowed; a file that pickles anything else is refused by
tools/train.py for --resume, load_from and init_cfg=Pretrained, with an
error that names the file and how to trust it; a truncated file gives a
clear error naming it. (More in test_loading_door.py.)"""
import os
import os.path as osp
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from mmropim.engine import SafeCheckpointHook
from mmropim.utils import (CheckpointReadError, UntrustedCheckpointError,
                           load_local_checkpoint)
from mmropim.utils.plain_state import from_plain, to_plain
from helpers import (REPO_ROOT, ROPIM_TINY_CFG, assert_names, raises_naming,
                     run_tool_process)

UPERNET_TINY_CFG = osp.join(
    REPO_ROOT, 'configs', 'downstream', 'ade20k',
    'upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-128px.py')
FINETUNE_TINY_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                             'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')


class Payload:
    """Pickles as a call of open(path, 'w'): unpickling creates the file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.fixture
def payload_checkpoint(tmp_path):
    marker = str(tmp_path / 'payload_ran')
    path = str(tmp_path / 'payload.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    meta=dict(epoch=1, iter=1), extra=Payload(marker)), path)
    return path, marker


def message_hub_state():
    hub = MessageHub('plain_test')
    for value in (1.5, 0.25, 3.0):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('train/lr', np.float64(1e-3))
    hub.update_info('iter', np.int64(7))
    hub.update_info('table', np.arange(6, dtype=np.float32).reshape(2, 3))
    return hub.state_dict()


def test_plain_copy_round_trips_through_the_safe_unpickler(tmp_path):
    state = dict(message_hub=message_hub_state(), meta=dict(seed=3))
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(state), path)
    with pytest.raises(Exception):  # MMEngine's own form: not plain data
        torch.load(path, weights_only=True)
    torch.save(to_plain(state), path)
    loaded = from_plain(torch.load(path, weights_only=True))
    scalars = loaded['message_hub']['log_scalars']
    assert isinstance(scalars['train/loss'], HistoryBuffer)
    np.testing.assert_array_equal(scalars['train/loss'].data[0],
                                  [1.5, 0.25, 3.0])
    assert scalars['train/loss'].data[0].dtype == np.float64
    assert scalars['train/loss'].max_length == \
        state['message_hub']['log_scalars']['train/loss'].max_length
    info = loaded['message_hub']['runtime_info']
    assert info['iter'] == 7 and isinstance(info['iter'], np.int64)
    assert info['table'].dtype == np.float32
    np.testing.assert_array_equal(info['table'],
                                  np.arange(6).reshape(2, 3))
    hub = MessageHub('plain_test_loaded')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_scalar('train/loss').mean() == pytest.approx(1.5833, 1e-3)


def test_hook_leaves_the_weights_shared_and_restores_on_load():
    weights = OrderedDict(w=torch.ones(2))
    checkpoint = dict(state_dict=weights, message_hub=message_hub_state())
    hook = SafeCheckpointHook()
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint['state_dict'] is weights
    assert isinstance(
        checkpoint['message_hub']['log_scalars']['train/loss'], dict)
    hook.after_load_checkpoint(None, checkpoint)
    assert isinstance(
        checkpoint['message_hub']['log_scalars']['train/loss'],
        HistoryBuffer)


def test_an_unknown_plain_entry_names_the_checkpoint(tmp_path):
    """A run state written by a newer mmropim: the error named the tag
    but not the file."""
    runner = SimpleNamespace(work_dir=str(tmp_path), cfg=dict(
        load_from=str(tmp_path / 'epoch_3.pth')))
    checkpoint = dict(state_dict=OrderedDict(w=torch.ones(1)),
                      message_hub={'__mmropim_plain__': 'FutureThing'})
    with raises_naming(ValueError, 'FutureThing',
                       str(tmp_path / 'epoch_3.pth'), 'newer mmropim'):
        SafeCheckpointHook().after_load_checkpoint(runner, checkpoint)


def test_loader_refuses_a_payload_and_says_how_to_trust_it(
        payload_checkpoint, monkeypatch):
    # neither variable trusts anything any more
    monkeypatch.setenv('MMROPIM_TRUST_CHECKPOINTS', '1')
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path, marker = payload_checkpoint
    with pytest.raises(UntrustedCheckpointError) as error:
        load_local_checkpoint(path)
    message = str(error.value)
    for part in (path, 'open', f'--trust-checkpoint {path}',
                 'that file only'):
        assert part in message
    assert 'MMROPIM_TRUST_CHECKPOINTS' not in message
    assert not osp.exists(marker)


def test_loader_unpickles_only_when_trusted(payload_checkpoint):
    path, marker = payload_checkpoint
    load_local_checkpoint(path, trust=True)
    assert osp.exists(marker)  # the opt-in is real: the payload ran


def test_plain_mmengine_checkpoint_loads_without_opt_in(tmp_path):
    zoo = str(tmp_path / 'zoo.pth')  # model-zoo style: weights + plain meta
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    meta=dict(epoch=300, mmpretrain_version='1.2.0')), zoo)
    assert load_local_checkpoint(zoo)['meta']['epoch'] == 300
    run = str(tmp_path / 'run.pth')  # what MMEngine writes without the hook
    state = message_hub_state()
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    message_hub=state), run)
    loaded = load_local_checkpoint(run)['message_hub']
    buffer = loaded['log_scalars']['train/loss']
    assert type(buffer) is HistoryBuffer
    np.testing.assert_array_equal(buffer.data[0], [1.5, 0.25, 3.0])
    assert loaded['runtime_info']['iter'] == 7
    assert loaded['runtime_info']['table'].dtype == np.float32


@pytest.mark.parametrize('content', [None, b'', b'not a checkpoint'],
                         ids=['truncated', 'empty', 'garbage'])
def test_unreadable_checkpoint_names_the_file(tmp_path, content):
    path = str(tmp_path / 'broken.pth')
    if content is None:
        torch.save(dict(state_dict=OrderedDict(w=torch.ones(1000))), path)
        with open(path, 'rb') as f:
            content = f.read()[:2000]
    with open(path, 'wb') as f:
        f.write(content)
    with raises_naming(CheckpointReadError, path, str(len(content))):
        load_local_checkpoint(path)  # the file and its size


def test_other_load_errors_are_not_called_corrupt(tmp_path, monkeypatch):
    path = str(tmp_path / 'fine.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2))), path)

    def out_of_memory(*args, **kwargs):
        raise MemoryError('no room')

    monkeypatch.setattr(torch, 'load', out_of_memory)
    with pytest.raises(MemoryError):
        load_local_checkpoint(path)


def test_counter_survives_the_plain_round_trip(tmp_path):
    from collections import Counter
    state = dict(milestones=Counter({30: 1, 60: 2}))  # MultiStepLR's
    path = str(tmp_path / 'scheduler.pth')
    torch.save(to_plain(state), path)
    loaded = from_plain(torch.load(path, weights_only=True))
    assert loaded == state and type(loaded['milestones']) is Counter


def train(*args, env=None):
    environment = dict(os.environ)
    environment.pop('MMROPIM_TRUST_CHECKPOINTS', None)
    environment.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    environment.update(env or {})
    return run_tool_process('tools/train.py', *args, env=environment,
                            timeout=600)


@pytest.mark.parametrize('how', ['resume', 'load_from', 'init_cfg_mmpretrain',
                                 'init_cfg_transfer'])
def test_train_refuses_a_payload_checkpoint(how, payload_checkpoint,
                                            demo_sets, tmp_path):
    path, marker = payload_checkpoint
    config, options = ROPIM_TINY_CFG, [
        'train_dataloader.dataset.data_root=' + osp.join(demo_sets,
                                                         'imagenet')]
    if how == 'resume':
        args = ['--resume', path]
    elif how == 'load_from':
        args, options = [], options + [f'load_from={path}']
    elif how == 'init_cfg_mmpretrain':  # MMEngine's Pretrained initializer
        config, args = FINETUNE_TINY_CFG, []
        options += [f'model.backbone.init_cfg.checkpoint={path}']
    else:  # TransferBEiTViT's own loud loader, under MMSeg
        config, args = UPERNET_TINY_CFG, []
        options = [f'model.backbone.init_cfg.checkpoint={path}',
                   'train_dataloader.dataset.data_root=' +
                   osp.join(demo_sets, 'ade20k')]
    result = train(config, '--work-dir', str(tmp_path / 'work'),
                   '--no-validate', *args, '--cfg-options', *options)
    assert result.returncode != 0
    assert 'UntrustedCheckpointError' in result.stderr, result.stderr[-2000:]
    assert path in result.stderr and \
        f'--trust-checkpoint {path}' in result.stderr
    assert not osp.exists(marker)


@pytest.mark.slow
def test_train_reports_a_truncated_resume_checkpoint(pretrain_run, demo_root,
                                                     tmp_path):
    with open(osp.join(pretrain_run['work_dir'], 'epoch_4.pth'), 'rb') as f:
        head = f.read()[:100000]
    path = str(tmp_path / 'epoch_4.pth')
    with open(path, 'wb') as f:
        f.write(head)
    result = train(ROPIM_TINY_CFG, '--work-dir', str(tmp_path / 'work'),
                   '--resume', path, '--cfg-options',
                   f'train_dataloader.dataset.data_root={demo_root}')
    assert result.returncode != 0
    assert_names(result.stderr, 'CheckpointReadError', path)


def test_a_trusted_file_rewritten_during_the_load_runs_nothing_new(
        tmp_path, monkeypatch):
    """Trust is decided on the opened file; the full unpickler reads the
    bytes as they were then: a file rewritten in place after that (a race
    with a writer) is refused, its new payload never runs."""
    from mmropim.utils import checkpoint_compat, trust_checkpoint_files
    trusted_marker = str(tmp_path / 'trusted_ran')
    new_marker = str(tmp_path / 'swapped_ran')
    path = str(tmp_path / 'trusted.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    extra=Payload(trusted_marker)), path)
    trust_checkpoint_files([path])
    swapped = str(tmp_path / 'swapped.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    extra=Payload(new_marker)), swapped)
    unsafe_globals = checkpoint_compat._unsafe_globals

    def rewrite_then_list(f):  # runs after the safe attempt was refused
        with open(swapped, 'rb') as new, open(path, 'r+b') as old:
            old.write(new.read())
            old.truncate()
        return unsafe_globals(f)

    monkeypatch.setattr(checkpoint_compat, '_unsafe_globals',
                        rewrite_then_list)
    try:
        with raises_naming(CheckpointReadError, path, 'changed'):
            load_local_checkpoint(path)
    finally:
        trust_checkpoint_files([])
    assert not osp.exists(new_marker)


def test_a_trusted_file_changed_without_a_new_identity_runs_nothing_new(
        tmp_path, monkeypatch):
    """A write through a shared memory map changes neither the change time
    nor the size, so the file's identity stays that of the trusted file;
    its content is compared with what was trusted. (The identity is cut to
    device and inode here, as such a write leaves it.)"""
    from mmropim.utils import checkpoint_compat, trust_checkpoint_files
    monkeypatch.setattr(checkpoint_compat, 'file_identity',
                        lambda stat: (stat.st_dev, stat.st_ino))
    trusted_marker = str(tmp_path / 'trusted_ran')
    new_marker = str(tmp_path / 'swapped_ran')
    path = str(tmp_path / 'trusted.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    extra=Payload(trusted_marker)), path)
    swapped = str(tmp_path / 'swapped.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    extra=Payload(new_marker)), swapped)
    trust_checkpoint_files([path])
    try:
        with open(swapped, 'rb') as new, open(path, 'r+b') as old:
            old.write(new.read())
            old.truncate()
        with raises_naming(CheckpointReadError, path, 'changed'):
            load_local_checkpoint(path)
    finally:
        trust_checkpoint_files([])
    assert not osp.exists(new_marker)
