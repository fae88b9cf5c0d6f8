"""The one door for checkpoints: every load, by any name or scheme, goes
through torch.load(weights_only=True) with only a stock MMEngine run state
allowed besides tensors and containers; meta['config'] (which MMEngine's
resume runs as Python) is dropped; URLs are downloaded and then loaded the
same way; trust names one file, and nothing else (no environment variable)
grants it. Every crafted pickle below really runs its payload under the
full unpickler (the control), and runs nothing through the door."""
import copyreg
import functools
import http.server
import json
import os
import os.path as osp
import pickle
import shutil
import sys
import threading
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from mmropim.utils import (UntrustedCheckpointError, checkpoint_compat,
                           load_local_checkpoint, trust_checkpoint_files)
from mmropim.utils.plain_state import TAG as PLAIN_TAG
from mmropim.utils.plain_state import to_plain
from mmropim.utils.run_state_globals import (mmengine_run_state_globals,
                                             run_state_getattr)
from helpers import (REPO_ROOT, ROPIM_TINY_CFG, assert_names,
                     logged_iterations, raises_naming, run_tool_process)

FINETUNE_TINY_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                             'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')
UPERNET_TINY_CFG = osp.join(
    REPO_ROOT, 'configs', 'downstream', 'ade20k',
    'upernet_ropim-beit-mini-p8_1xb4-40iter_demo-nuclei-128px.py')
TRUST_ENVIRONMENT = dict(MMROPIM_TRUST_CHECKPOINTS='1',
                         TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')


class Reduce:
    """Pickles as ``func(*args)``; ``func`` and ``args`` may be Reduce
    objects themselves (a chain of calls made while unpickling)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __call__(self):  # pickle only accepts a callable as the function
        raise AssertionError('only pickled')

    def __reduce__(self):
        return self.func, self.args


class Stateful:
    """Pickles as ``cls.__new__(cls)`` and a BUILD with ``state``, as
    protocol 2 pickles any object (pickle checks that ``__class__`` is
    ``cls``)."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    @property
    def __class__(self):
        return self.cls

    def __reduce__(self):
        return copyreg.__newobj__, (self.cls, ), self.state


# PyTorch's safe unpickler allows this rebuild function, and it calls its
# first argument: with an unrestricted getattr it calls anything
CALL_ANYTHING = torch._tensor._rebuild_from_type_v2


def call(func, result_type, *args):
    """Pickles as ``func(*args)`` made by ``CALL_ANYTHING`` (which then
    checks that the result's type is ``result_type``)."""
    return Reduce(CALL_ANYTHING, func, result_type, args, {})


def builtins_through_getattr(entry='mean'):
    """A function that maps a builtin's name to the builtin, reached from a
    HistoryBuffer attribute by getattr alone (its function globals, their
    ``__builtins__``), and the type of the builtins."""
    start = Reduce(getattr, HistoryBuffer, entry)
    module_globals = Reduce(getattr, start, '__globals__')
    builtins_dict = call(Reduce(getattr, module_globals, 'get'),
                         Reduce(getattr, module_globals, '__class__'),
                         '__builtins__')
    get = Reduce(getattr, builtins_dict, 'get')
    builtin_type = Reduce(getattr, get, '__class__')
    return lambda name: call(get, builtin_type, name), builtin_type


def payloads(marker):
    """Name -> an object whose unpickling creates the file ``marker``."""
    builtin, builtin_type = builtins_through_getattr()
    write = f'open({marker!r}, "w").close()'
    module_type = Reduce(getattr, Reduce(getattr, builtin('eval'),
                                         '__self__'), '__class__')
    system = {
        module: call(
            Reduce(getattr, call(builtin('__import__'), module_type, module),
                   'system'), module_type, f'touch {marker}')
        for module in ('os', 'posix')
    }
    evaluate = call(builtin('eval'), builtin_type, write)
    from_init, _ = builtins_through_getattr(entry='__init__')
    return {
        'getattr_eval': evaluate,
        'getattr_exec': call(builtin('exec'), builtin_type, write),
        'getattr_open': call(builtin('open'), builtin_type, marker, 'w'),
        'getattr_os_system': system['os'],
        'getattr_posix_system': system['posix'],
        'getattr_from_init': call(from_init('eval'), builtin_type, write),
        'history_buffer_state': Stateful(
            HistoryBuffer,
            dict(max_length=10, _log_history=np.zeros(1),
                 _count_history=np.ones(1), extra=evaluate)),
        'history_buffer_statistics': Stateful(
            HistoryBuffer,
            dict(max_length=10, _log_history=np.zeros(1),
                 _count_history=np.ones(1),
                 statistics_methods=dict(mean=evaluate))),
        'numpy_reconstruct_dtype': Reduce(
            np.ndarray((0, )).__reduce__()[0], np.ndarray, (0, ), evaluate),
        'numpy_dtype': Reduce(np.dtype, evaluate),
        'numpy_scalar': Reduce(
            np.float64(0).__reduce__()[0], np.dtype('f8'), evaluate),
    }


def run(*args, env=None, timeout=600):
    environment = dict(os.environ)
    for variable in TRUST_ENVIRONMENT:
        environment.pop(variable, None)
    environment.update(env or {})
    return run_tool_process(*args, env=environment, timeout=timeout)


def save_with(path, extra):
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    meta=dict(epoch=1, iter=1), extra=extra), path)


@pytest.fixture(autouse=True)
def no_trusted_files():
    trust_checkpoint_files([])
    yield
    trust_checkpoint_files([])


@pytest.mark.parametrize('name', sorted(payloads('m')))
def test_crafted_pickle_is_refused_and_runs_nothing(name, tmp_path,
                                                    monkeypatch):
    for variable, value in TRUST_ENVIRONMENT.items():
        monkeypatch.setenv(variable, value)  # no longer trust anything
    marker = str(tmp_path / 'payload_ran')
    path = str(tmp_path / f'{name}.pth')
    save_with(path, payloads(marker)[name])
    with pytest.raises(UntrustedCheckpointError) as error:
        load_local_checkpoint(path)
    assert path in str(error.value)
    assert not osp.exists(marker)
    # nor did it change what every HistoryBuffer computes
    assert HistoryBuffer([1.0, 3.0], [1, 1]).statistics('mean') == 2.0


FULL_UNPICKLE = """
import sys, torch
for path in sys.argv[1:]:
    try:
        torch.load(path, weights_only=False)
    except Exception:  # some chains fail after they ran
        pass
"""


def assert_every_payload_runs(tmp_path, probe):
    """Each crafted file above, loaded by the Python ``probe`` in a process
    of its own, runs its payload (creates its marker file)."""
    paths, markers = [], []
    for name in sorted(payloads('m')):
        markers.append(str(tmp_path / f'{name}_ran'))
        paths.append(str(tmp_path / f'{name}.pth'))
        save_with(paths[-1], payloads(markers[-1])[name])
    result = run('-c', probe, *paths)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [m for m in markers if not osp.exists(m)] == []


def test_crafted_pickles_run_under_the_full_unpickler(tmp_path):
    """The control of the test above, in a process of its own."""
    assert_every_payload_runs(tmp_path, FULL_UNPICKLE)


NAIVE_ALLOW_LIST = """
import sys
from mmengine.logging import HistoryBuffer
from mmropim.utils import load_local_checkpoint, run_state_globals
ours = run_state_globals.mmengine_run_state_globals


def naive():  # the real getattr and HistoryBuffer instead of ours
    swap = {'builtins.getattr': getattr,
            run_state_globals.HISTORY_BUFFER_NAME: HistoryBuffer}
    return [swap.get(item[1], item) if isinstance(item, tuple) else item
            for item in ours()]


run_state_globals.mmengine_run_state_globals = naive
for path in sys.argv[1:]:
    try:
        load_local_checkpoint(path)
    except Exception:  # some chains fail after they ran
        pass
"""


def test_crafted_pickles_run_through_a_naive_allow_list(tmp_path):
    """Why getattr and HistoryBuffer are replaced: allowing the real ones
    lets every crafted file above run its payload through the safe
    unpickler (in a process of its own)."""
    assert_every_payload_runs(tmp_path, NAIVE_ALLOW_LIST)


def test_history_buffer_cannot_swap_the_class_wide_statistics(tmp_path):
    path = str(tmp_path / 'swapped.pth')
    save_with(path, Stateful(
        HistoryBuffer,
        dict(max_length=10, _log_history=np.array([1.0, 3.0]),
             _count_history=np.ones(2),
             statistics_methods=dict(mean=HistoryBuffer.max))))
    # the file and the method it swaps in
    with raises_naming(UntrustedCheckpointError, path, 'HistoryBuffer.max'):
        load_local_checkpoint(path)
    save_with(path, Stateful(
        HistoryBuffer,
        dict(max_length=10, _log_history=np.array([1.0, 3.0]),
             _count_history=np.ones(2), _statistics_methods={})))
    with raises_naming(UntrustedCheckpointError, path, '_statistics_methods'):
        load_local_checkpoint(path)
    assert HistoryBuffer([1.0, 3.0], [1, 1]).statistics('mean') == 2.0


@pytest.mark.parametrize('field,value', [
    ('max_length', -5), ('max_length', True), ('max_length', 0),
    ('_log_history', np.array([1 + 2j])), ('_log_history', np.zeros(3)),
    ('_log_history', np.zeros((1, 1))), ('_count_history', [1])])
def test_history_buffer_state_is_a_buffer_of_numbers(field, value,
                                                     tmp_path):
    state = dict(max_length=10, _log_history=np.zeros(1),
                 _count_history=np.ones(1))
    state[field] = value
    path = str(tmp_path / 'buffer.pth')
    save_with(path, Stateful(HistoryBuffer, state))
    with raises_naming(UntrustedCheckpointError, path, 'HistoryBuffer',
                       field):
        load_local_checkpoint(path)


def test_getattr_answers_only_the_history_buffer_statistics():
    for name in ('min', 'max', 'current', 'mean'):
        assert run_state_getattr(HistoryBuffer, name) is getattr(
            HistoryBuffer, name)
    for obj, name in ((HistoryBuffer, '__init__'), (HistoryBuffer.mean,
                                                    '__globals__'),
                      (os, 'system'), (np.ndarray, 'mean'), (dict, 'get')):
        with raises_naming(pickle.UnpicklingError, repr(name)):
            run_state_getattr(obj, name)
    with raises_naming(pickle.UnpicklingError, "'mean'"):
        run_state_getattr(HistoryBuffer, 'mean', None)  # a default


def test_run_state_is_allowed_only_during_our_load(tmp_path):
    hub = MessageHub('door_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', np.int64(7))
    path = str(tmp_path / 'stock.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    message_hub=hub.state_dict()), path)
    before = torch.serialization.get_safe_globals()
    loaded = load_local_checkpoint(path)
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert type(buffer) is HistoryBuffer and buffer.mean() == 1.5
    assert loaded['message_hub']['runtime_info']['iter'] == 7
    assert set(torch.serialization.get_safe_globals()) == set(before)
    with pytest.raises(pickle.UnpicklingError):  # PyTorch alone: unchanged
        torch.load(path, weights_only=True)
    names = {name for item in mmengine_run_state_globals()
             if isinstance(item, tuple) for name in item[1:]}
    assert 'builtins.getattr' in names


def test_meta_config_string_is_dropped(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(checkpoint_compat, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    path = str(tmp_path / 'config.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    meta=dict(epoch=1, cfg='x = 1', config='import os')),
               path)
    meta = load_local_checkpoint(path)['meta']
    assert 'config' not in meta and meta['cfg'] == 'x = 1'
    assert any('meta["config"]' in message and path in message
               for message in logged)


@pytest.fixture
def two_payloads(tmp_path):
    """A (to trust) and B (not), each with its own marker."""
    files = {}
    for name in ('A', 'B'):
        marker = str(tmp_path / f'{name}_ran')
        path = str(tmp_path / f'{name}.pth')
        torch.save(dict(state_dict=OrderedDict({'backbone.w': torch.ones(2)}),
                        meta=dict(epoch=1),
                        extra=Reduce(open, marker, 'w')), path)
        files[name] = (path, marker)
    return files


def test_trust_names_one_file_by_identity(two_payloads, tmp_path,
                                          monkeypatch):
    logged = []
    monkeypatch.setattr(checkpoint_compat, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    (a, a_marker), (b, b_marker) = two_payloads['A'], two_payloads['B']
    link, hard, copy = (str(tmp_path / name)
                        for name in ('link.pth', 'hard.pth', 'copy.pth'))
    os.symlink(a, link)
    os.link(a, hard)
    shutil.copyfile(a, copy)
    for variable, value in TRUST_ENVIRONMENT.items():
        monkeypatch.setenv(variable, value)
    trust_checkpoint_files([link])
    for other in (b, copy):  # another file, even with the same bytes
        with pytest.raises(UntrustedCheckpointError):
            load_local_checkpoint(other)
    assert not osp.exists(a_marker) and not osp.exists(b_marker)
    for name in (a, link, hard):
        logged.clear()
        load_local_checkpoint(name)
        # the file loaded unsafely and the option that trusted it
        assert any(osp.realpath(a) in message
                   and '--trust-checkpoint' in message
                   for message in logged), logged
    assert osp.exists(a_marker) and not osp.exists(b_marker)
    # a new file put at the trusted path is not the file that was named
    os.remove(a)
    shutil.copyfile(b, a)
    with pytest.raises(UntrustedCheckpointError):
        load_local_checkpoint(a)
    assert not osp.exists(b_marker)
    trust_checkpoint_files([])
    with pytest.raises(UntrustedCheckpointError):
        load_local_checkpoint(hard)
    with raises_naming(FileNotFoundError, '--trust-checkpoint',
                       str(tmp_path / 'missing.pth')):
        trust_checkpoint_files([str(tmp_path / 'missing.pth')])


def test_train_trusts_only_the_named_file(two_payloads, demo_sets, tmp_path):
    (a, a_marker), (b, b_marker) = two_payloads['A'], two_payloads['B']
    result = run(
        'tools/train.py', FINETUNE_TINY_CFG, '--work-dir',
        str(tmp_path / 'work'), '--no-validate', '--trust-checkpoint', a,
        '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={b}',
        'train_dataloader.dataset.data_root=' + osp.join(
            demo_sets, 'imagenet'), env=TRUST_ENVIRONMENT)
    assert result.returncode != 0
    assert_names(result.stderr, 'UntrustedCheckpointError', b)
    assert not osp.exists(a_marker) and not osp.exists(b_marker)


def test_converter_trusts_the_named_file_under_another_name(
        two_payloads, tmp_path):
    (a, a_marker), (b, b_marker) = two_payloads['A'], two_payloads['B']
    link = str(tmp_path / 'link.pth')
    os.symlink(a, link)
    out = str(tmp_path / 'backbone.pth')
    result = run('tools/convert_checkpoint.py', link, out,
                 '--trust-checkpoint', a)
    assert result.returncode == 0, result.stderr[-3000:]
    # the file loaded unsafely and the name that trusted it
    assert_names(result.stdout + result.stderr, osp.realpath(a),
                 '--trust-checkpoint')
    assert osp.exists(a_marker)
    result = run('tools/convert_checkpoint.py', b, str(tmp_path / 'b.pth'),
                 '--trust-checkpoint', a)
    assert result.returncode != 0 and 'UntrustedCheckpointError' in \
        result.stderr
    assert not osp.exists(b_marker)


@pytest.fixture
def http_folder(tmp_path):
    """A folder served over HTTP on 127.0.0.1 (ephemeral port) while the
    test runs; yields (folder, base URL)."""
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield str(folder), f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


URL_PROBE = """
import json, sys
from mmengine.runner import CheckpointLoader
from mmropim.utils import UntrustedCheckpointError
from mmropim.utils.checkpoint_compat import install_safe_checkpoint_loader
install_safe_checkpoint_loader()
results = {}
for name in sys.argv[1:]:
    try:
        checkpoint = CheckpointLoader.load_checkpoint(name, 'cpu')
        results[name] = sorted(checkpoint['state_dict'])
    except Exception as error:
        results[name] = type(error).__name__ + ': ' + str(error)
print(json.dumps(results))
"""


def test_urls_are_downloaded_then_loaded_safely(http_folder, tmp_path):
    folder, base = http_folder
    marker = str(tmp_path / 'payload_ran')
    save_with(osp.join(folder, 'payload.pth'), Reduce(open, marker, 'w'))
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2))),
               osp.join(folder, 'plain.pth'))
    torch_home = str(tmp_path / 'torch_home')
    env = dict(TORCH_HOME=torch_home, NO_PROXY='127.0.0.1',
               no_proxy='127.0.0.1', **TRUST_ENVIRONMENT)
    names = [f'{base}/payload.pth', f'{base}/plain.pth', 's3://bucket/x.pth',
             'pavi://model/x.pth']
    result = run('-c', URL_PROBE, *names, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    loads = json.loads(result.stdout.strip().splitlines()[-1])
    cached = osp.join(torch_home, 'hub', 'checkpoints', 'payload.pth')
    assert loads[names[0]].startswith('UntrustedCheckpointError')
    assert cached in loads[names[0]] and names[0] in loads[names[0]]
    assert not osp.exists(marker)
    assert loads[names[1]] == ['w']
    assert osp.isfile(osp.join(torch_home, 'hub', 'checkpoints',
                               'plain.pth'))
    for name, scheme in zip(names[2:], ('s3://', 'pavi://')):
        assert loads[name].startswith('UnsupportedCheckpointSchemeError')
        assert scheme in loads[name]


def test_urls_of_the_same_file_name_get_their_own_downloads(
        http_folder, tmp_path, monkeypatch):
    """MMEngine's cache is keyed by the URL's file name: a second URL
    ending in the same name loaded the first one's weights. Each URL now
    keeps its own file (the first under MMEngine's name), and a URL seen
    before reuses its download."""
    from mmropim.utils.checkpoint_sources import download_checkpoint
    folder, base = http_folder
    for version, value in (('v1', 1.0), ('v2', 2.0)):
        os.makedirs(osp.join(folder, version))
        torch.save(dict(state_dict=OrderedDict(w=torch.full((2, ), value))),
                   osp.join(folder, version, 'model.pth'))
    monkeypatch.setattr(torch.hub, 'get_dir',
                        lambda: str(tmp_path / 'hub'))
    monkeypatch.setenv('NO_PROXY', '127.0.0.1')
    first = download_checkpoint(f'{base}/v1/model.pth')
    second = download_checkpoint(f'{base}/v2/model.pth')
    assert first == str(tmp_path / 'hub' / 'checkpoints' / 'model.pth')
    assert second != first
    for path, value in ((first, 1.0), (second, 2.0)):
        weights = load_local_checkpoint(path)['state_dict']['w']
        assert torch.equal(weights, torch.full((2, ), value))
    os.remove(osp.join(folder, 'v1', 'model.pth'))  # no second download
    assert download_checkpoint(f'{base}/v1/model.pth') == first
    assert download_checkpoint(f'{base}/v2/model.pth') == second


def test_a_cache_file_of_another_url_is_never_taken(tmp_path):
    """A URL whose file name is exactly another URL's second cache name
    (``w-url<hash>.pth``) cached its weights there first: the second URL
    got them."""
    from mmropim.utils.checkpoint_sources import URL_RECORD, cache_file
    first, second = 'http://a/w.pth', 'http://b/w.pth'
    (tmp_path / 'w.pth').write_bytes(b'a')
    (tmp_path / ('w.pth' + URL_RECORD)).write_text(first)
    taken = cache_file(str(tmp_path), 'w.pth', second)
    name = osp.basename(taken)
    assert name != 'w.pth'
    (tmp_path / name).write_bytes(b'c')
    (tmp_path / (name + URL_RECORD)).write_text(f'http://c/{name}')
    with raises_naming(ValueError, taken, f'http://c/{name}', second):
        cache_file(str(tmp_path), 'w.pth', second)


def test_train_refuses_a_payload_url(http_folder, demo_root, tmp_path):
    folder, base = http_folder
    marker = str(tmp_path / 'payload_ran')
    save_with(osp.join(folder, 'payload.pth'), Reduce(open, marker, 'w'))
    result = run(
        'tools/train.py', ROPIM_TINY_CFG, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_root}',
        f'load_from={base}/payload.pth',
        env=dict(TORCH_HOME=str(tmp_path / 'torch_home'),
                 NO_PROXY='127.0.0.1', no_proxy='127.0.0.1'))
    assert result.returncode != 0
    assert 'UntrustedCheckpointError' in result.stderr, result.stderr[-3000:]
    assert f'{base}/payload.pth' in result.stderr
    assert not osp.exists(marker)


DOWNSTREAM_PROBE = """
import sys
from mmengine.config import Config
from mmengine.runner import CheckpointLoader
Config.fromfile(sys.argv[1])  # its custom_imports, as MMSeg's tools do
try:
    CheckpointLoader.load_checkpoint(sys.argv[2], 'cpu')
    print('LOADED')
except Exception as error:
    print(type(error).__name__)
"""


@pytest.mark.parametrize('config', [UPERNET_TINY_CFG, ROPIM_TINY_CFG],
                         ids=['mmseg', 'mmpretrain'])
def test_configs_opt_in_to_the_door_under_other_tools(config, tmp_path):
    """MMSeg's, MMDet's and MMPretrain's own tools/train.py load our configs
    with their custom_imports, which install the safe loader."""
    marker = str(tmp_path / 'payload_ran')
    path = str(tmp_path / 'payload.pth')
    save_with(path, Reduce(open, marker, 'w'))
    result = run('-c', DOWNSTREAM_PROBE, config, path,
                 env=dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == \
        'UntrustedCheckpointError'
    assert not osp.exists(marker)


@pytest.fixture(scope='module')
def stock_run(demo_root, tmp_path_factory):
    """One epoch (one iteration) of the tiny ROPIM config written by
    MMEngine's own CheckpointHook, as MMPretrain's tools/train.py writes
    it."""
    work_dir = str(tmp_path_factory.mktemp('stock_run'))
    result = run('tools/train.py', ROPIM_TINY_CFG, '--work-dir', work_dir,
                 '--cfg-options',
                 f'train_dataloader.dataset.data_root={demo_root}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1',
                 'default_hooks.checkpoint.type=CheckpointHook',
                 'default_hooks.checkpoint.interval=1')
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(work_dir=work_dir,
                checkpoint=osp.join(work_dir, 'epoch_1.pth'))


def test_stock_mmengine_checkpoint_resumes_without_opt_in(
        stock_run, demo_root, tmp_path):
    checkpoint = stock_run['checkpoint']
    with pytest.raises(pickle.UnpicklingError):  # really MMEngine's form
        torch.load(checkpoint, weights_only=True)
    work_dir = str(tmp_path / 'resumed')
    result = run('tools/train.py', ROPIM_TINY_CFG, '--work-dir', work_dir,
                 '--resume', checkpoint, '--cfg-options',
                 f'train_dataloader.dataset.data_root={demo_root}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1')
    assert result.returncode == 0, result.stderr[-3000:]
    assert logged_iterations(work_dir) == [2]  # epoch 2 only
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


@pytest.mark.parametrize('trust_other', [False, True],
                         ids=['no_trust', 'trust_other_file'])
def test_stock_checkpoint_with_a_payload_is_refused(
        stock_run, demo_root, tmp_path, trust_other):
    marker = str(tmp_path / 'payload_ran')
    checkpoint = load_local_checkpoint(stock_run['checkpoint'])
    builtin, builtin_type = builtins_through_getattr()
    checkpoint['extra'] = call(builtin('open'), builtin_type, marker, 'w')
    path = str(tmp_path / 'crafted.pth')
    torch.save(checkpoint, path)
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(1))), other)
    args = ['--trust-checkpoint', other] if trust_other else []
    result = run('tools/train.py', ROPIM_TINY_CFG, '--work-dir',
                 str(tmp_path / 'work'), '--resume', path, *args,
                 '--cfg-options',
                 f'train_dataloader.dataset.data_root={demo_root}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=2')
    assert result.returncode != 0
    assert 'UntrustedCheckpointError' in result.stderr, result.stderr[-3000:]
    assert not osp.exists(marker)


@pytest.mark.parametrize('form', ['dict', 'plain_counter'])
def test_resume_does_not_run_meta_config(stock_run, demo_root, tmp_path,
                                         form):
    """A config string in ``meta`` never reaches MMEngine's resume, also
    when ``meta`` is written in the plain form of a mapping that the
    checkpoint hook rebuilds after the loader has looked at it."""
    marker = str(tmp_path / 'config_ran')
    checkpoint = load_local_checkpoint(stock_run['checkpoint'])
    meta = checkpoint['meta']
    meta['config'] = (
        f'import os\nopen({marker!r}, "w").close()\ngpu_ids = []\n')
    if form == 'plain_counter':
        checkpoint = to_plain(checkpoint)
        checkpoint['meta'] = {PLAIN_TAG: 'Counter',
                              'items': [[k, v] for k, v in
                                        checkpoint['meta'].items()]}
    path = str(tmp_path / 'config.pth')
    torch.save(checkpoint, path)
    if form == 'plain_counter':  # nothing for the safe unpickler to refuse
        torch.load(path, weights_only=True)
    work_dir = str(tmp_path / 'resumed')
    result = run('tools/train.py', ROPIM_TINY_CFG, '--work-dir', work_dir,
                 '--resume', path, '--cfg-options',
                 f'train_dataloader.dataset.data_root={demo_root}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=2')
    assert not osp.exists(marker)
    if form == 'dict':
        assert result.returncode == 0, result.stderr[-3000:]
        assert_names(result.stdout + result.stderr, path, 'meta["config"]')
        assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    else:  # MMEngine writes meta as a dict: anything else is refused
        assert result.returncode != 0
        assert_names(result.stderr, path, 'meta', 'Counter', 'dict')


@pytest.mark.parametrize('kind', ['folder', 'fifo', 'device'])
def test_a_checkpoint_that_is_not_a_file_says_what_it_is(tmp_path, kind):
    """A folder, a FIFO or /dev/zero behind a link was reported as a file
    that does not exist."""
    path = tmp_path / 'epoch_1.pth'
    if kind == 'folder':
        path.mkdir()
    elif kind == 'fifo':
        os.mkfifo(path)
    else:
        path.symlink_to('/dev/zero')
    with raises_naming(ValueError, str(path), 'not a regular file',
                       {'folder': 'folder', 'fifo': 'FIFO',
                        'device': 'device'}[kind]):
        load_local_checkpoint(str(path))


@pytest.mark.parametrize('name', ['', '   '])
def test_an_empty_checkpoint_name_says_what_to_set(name):
    """An empty init_cfg.checkpoint / load_from reached MMEngine's loader
    as 'checkpoint file  does not exist', naming nothing."""
    with raises_naming(FileNotFoundError, 'empty', 'init_cfg.checkpoint',
                       'load_from'):
        load_local_checkpoint(name)


def test_trust_checkpoint_must_name_an_existing_file(tmp_path, capsys):
    from tools.convert_checkpoint import parse_args
    source = str(tmp_path / 'source.pth')
    torch.save(dict(state_dict=OrderedDict({'backbone.w': torch.ones(1)})),
               source)
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(SystemExit):
        parse_args([source, str(tmp_path / 'out.pth'), '--trust-checkpoint',
                    missing])
    assert f"--trust-checkpoint: no such file: '{missing}'" in \
        capsys.readouterr().err


def torch_file_with_pickle(path, data_pkl):
    """A zip checkpoint whose ``data.pkl`` is ``data_pkl`` (raw pickle
    bytes), the other records as ``torch.save`` writes them."""
    import io
    import zipfile
    buffer = io.BytesIO()
    torch.save({}, buffer)
    with zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(
                info.filename, data_pkl if info.filename.endswith(
                    '/data.pkl') else source.read(info.filename))


class Op:
    """Raw protocol-2 opcodes, for the states numpy's own pickling never
    writes."""

    @staticmethod
    def glob(module, name):
        return b'c' + f'{module}\n{name}\n'.encode()

    @staticmethod
    def text(value):
        data = value.encode()
        return b'X' + len(data).to_bytes(4, 'little') + data

    @staticmethod
    def int(value):
        return b'J' + value.to_bytes(4, 'little', signed=True)

    @classmethod
    def bytes(cls, value):  # as protocol 2 pickles bytes
        return cls.glob('_codecs', 'encode') + cls.text(
            value.decode('latin1')) + cls.text('latin1') + b'\x86R'

    @classmethod
    def dtype(cls, code, copy=True, state=None):
        """``np.dtype(code, False, copy)``, then BUILD ``state`` (raw)."""
        made = cls.glob('numpy', 'dtype') + cls.text(code) + b'\x89' + (
            b'\x88' if copy else b'\x89') + b'\x87R'
        return made if state is None else made + state + b'b'

    @classmethod
    def dtype_state(cls, endian='<', subarray=b'N', names=b'N',
                    fields=b'N', elsize=-1, alignment=-1, flags=0,
                    version=3, metadata=b''):
        return b'(' + cls.int(version) + cls.text(endian) + subarray + \
            names + fields + cls.int(elsize) + cls.int(alignment) + \
            cls.int(flags) + metadata + b't'

    @classmethod
    def array(cls, dtype, data, shape=1):
        """``_reconstruct(ndarray, (0,), b'b')`` and BUILD ``(1, (shape,),
        dtype, False, data)`` with ``dtype`` and ``data`` raw."""
        return cls.glob('numpy.core.multiarray', '_reconstruct') + \
            cls.glob('numpy', 'ndarray') + cls.int(0) + b'\x85' + \
            cls.bytes(b'b') + b'\x87R(' + cls.int(1) + cls.int(shape) + \
            b'\x85' + dtype + b'\x89' + data + b'tb'

    @classmethod
    def checkpoint(cls, value):
        """``{'value': value}`` as a whole pickle."""
        return b'\x80\x02}' + cls.text('value') + value + b's.'


def object_field():
    """names ('a',) and fields {'a': (dtype('O'), 0)}: a field that reads
    8 bytes of the array as a pointer to a Python object."""
    return (Op.text('a') + b'\x85', b'}' + Op.text('a') + Op.dtype('O8') +
            Op.int(0) + b'\x86s')


def crafted_dtypes():
    """Name -> raw pickle of a numpy dtype / array / scalar whose dtype
    state numpy's pickling never writes for a plain dtype."""
    names, fields = object_field()
    pointer_field = Op.dtype('f8', state=Op.dtype_state(
        '|', names=names, fields=fields, elsize=8, alignment=1))
    claims_objects = Op.dtype('f8', state=Op.dtype_state(flags=63))
    return {
        # reading value['a'] dereferences 0x4141414141414141
        'field_of_objects_over_bytes':
        Op.array(pointer_field, Op.bytes(b'A' * 8)),
        # freeing it releases the bits of 1.5 as an object
        'float_claiming_objects':
        Op.array(claims_objects, b']G?\xf8\x00\x00\x00\x00\x00\x00a'),
        'object_subarray':
        Op.array(Op.dtype('f8', state=Op.dtype_state(
            subarray=Op.dtype('O8') + Op.int(1) + b'\x85\x86')),
            Op.bytes(b'A' * 8)),
        'object_dtype_array':
        Op.array(Op.dtype('O8'), b']' + Op.int(1) + b'a'),
        'structured_code': Op.array(Op.dtype('i4,O'), Op.bytes(b'A' * 12)),
        'bare_dtype_with_fields': pointer_field,
        'shared_dtype_with_fields':
        Op.dtype('f8', copy=False, state=Op.dtype_state(
            '|', names=names, fields=fields, elsize=8, alignment=1)),
        'scalar_of_field_dtype':
        Op.glob('numpy.core.multiarray', 'scalar') + pointer_field +
        Op.bytes(b'A' * 8) + b'\x86R',
    }


@pytest.mark.parametrize('name', sorted(crafted_dtypes()))
def test_numpy_dtype_states_are_only_plain_ones(name, tmp_path):
    """A dtype's pickled state can give a float64 an object field over
    raw bytes (or claim objects that are bits): using or freeing such an
    array dereferences bytes from the file as pointers. Only the states
    numpy writes for a plain dtype are rebuilt."""
    path = str(tmp_path / f'{name}.pth')
    torch_file_with_pickle(path, Op.checkpoint(crafted_dtypes()[name]))
    with pytest.raises(UntrustedCheckpointError):
        load_local_checkpoint(path)
    assert np.dtype('f8').fields is None  # numpy's own float64 unchanged


def crashing_dtypes():
    """Name -> (raw pickle, dtype code) of datetime dtype states that crash
    numpy's own ``dtype.__setstate__`` (the process dies of SIGSEGV)."""
    version_3 = Op.dtype('M8', state=Op.dtype_state(elsize=8, alignment=8))
    metadata = b'N' + Op.bytes(b'ns') + Op.int(1) + Op.int(1) + \
        Op.int(1) + b'\x87\x86'
    return {
        'datetime_version_3_state': (Op.array(version_3, Op.bytes(
            b'A' * 8)), 'M8'),
        'bare_datetime_version_3_state': (version_3, 'M8'),
        'timedelta_version_3_state': (Op.dtype('m8', state=Op.dtype_state(
            elsize=8, alignment=8)), 'm8'),
        'float_with_datetime_metadata': (Op.dtype('f8', state=Op.dtype_state(
            version=4, metadata=metadata)), 'f8'),
    }


@pytest.mark.parametrize('name', sorted(crashing_dtypes()))
def test_no_dtype_state_from_a_file_reaches_numpy(name, tmp_path):
    """Such a dtype state segfaulted the converter (and train --resume):
    it gets the loader's refusal, naming the file and the dtype. Run in a
    process of its own, as a crash would end pytest's."""
    data, code = crashing_dtypes()[name]
    path = str(tmp_path / f'{name}.pth')
    torch_file_with_pickle(path, Op.checkpoint(data))
    result = run('tools/convert_checkpoint.py', path,
                 str(tmp_path / 'out.pth'))
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    assert_names(result.stderr, 'UntrustedCheckpointError', path,
                 f'numpy.dtype({code!r}')
    assert not osp.exists(tmp_path / 'out.pth')


@pytest.mark.parametrize('value', [
    np.array(['ab', 'c']), np.array([b'x']), np.str_('mean'),
    np.array(['2024-01-01'], dtype='M8[s]'), np.timedelta64(3, 's'),
    np.zeros(2, dtype='V8')], ids=lambda value: value.dtype.str)
def test_run_state_dtypes_are_bool_and_numbers(value, tmp_path):
    """numpy's RNG state, HistoryBuffer arrays and runtime-info numbers
    are bool / integer / float; strings, dates and records are refused
    even as numpy writes them."""
    path = str(tmp_path / 'other.pth')
    torch.save(dict(value=value), path)
    with raises_naming(UntrustedCheckpointError, path,
                       f'numpy.dtype({value.dtype.__reduce__()[1][0]!r}'):
        load_local_checkpoint(path)


def test_numpy_values_of_a_run_state_load_as_numpy_writes_them(tmp_path):
    values = dict(
        f8=np.arange(3.0), i8=np.arange(3), big=np.arange(3, dtype='>i4'),
        b=np.array([True, False]), c=np.array([1 + 2j]),
        h=np.float16(1.5), f=np.float64(2.5), n=np.int64(7),
        flag=np.bool_(True), empty=np.zeros((0, 2), dtype=np.float32),
        fortran=np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        rng_keys=np.random.RandomState(0).get_state()[1])
    # every size of bool and number, in either byte order
    for code in np.typecodes['AllInteger'] + np.typecodes['AllFloat'] + '?':
        for order in '<>':
            dtype = np.dtype(code).newbyteorder(order)
            values[f'{order}{code}'] = np.arange(2).astype(dtype)
            values[f'{order}{code}_scalar'] = values[f'{order}{code}'][1]
    path = str(tmp_path / 'numpy.pth')
    torch.save(values, path)
    loaded = load_local_checkpoint(path)
    # what the full unpickler makes of our own file (numpy turns '>i4'
    # arrays native, for one)
    expected = torch.load(path, weights_only=False)
    for key, value in expected.items():
        assert isinstance(loaded[key], type(value)), key
        if isinstance(value, np.ndarray):
            assert loaded[key].dtype.str == value.dtype.str, key
            assert loaded[key].flags.f_contiguous == value.flags.f_contiguous
            np.testing.assert_array_equal(loaded[key], value)
        else:
            assert type(loaded[key]) is type(value), key
            assert loaded[key] == value, key
    # and they pickle again as numpy's own
    again = str(tmp_path / 'again.pth')
    torch.save(loaded, again)
    assert b'run_state' not in open(again, 'rb').read()


def test_trust_does_not_pass_to_a_new_file_on_the_same_inode(tmp_path):
    """A trusted file deleted and another written at its path: the file
    system may give the new file the freed inode (ext4 and tmpfs do), but
    it is not the file the user named."""
    path = str(tmp_path / 'trusted.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2))), path)
    trust_checkpoint_files([path])
    inode = os.stat(path).st_ino
    os.remove(path)
    marker = str(tmp_path / 'payload_ran')
    save_with(path, Reduce(open, marker, 'w'))
    if os.stat(path).st_ino != inode:
        pytest.skip('this file system did not reuse the inode')
    with pytest.raises(UntrustedCheckpointError):
        load_local_checkpoint(path)
    assert not osp.exists(marker)


class Dressed:
    """Pickles as an ``OrderedDict`` of ``content`` whose instance
    attributes ``attributes`` (e.g. ``get=set``) shadow its methods:
    PyTorch's safe unpickler rebuilds it (a BUILD of an OrderedDict)."""

    def __init__(self, content, **attributes):
        self.content, self.attributes = content, attributes

    def __reduce__(self):
        return (OrderedDict, (), self.attributes, None,
                iter(dict(self.content).items()))


@pytest.mark.parametrize('where, method', [
    ('checkpoint', 'get'), ('meta', 'pop'), ('state_dict', 'items'),
])
def test_a_container_that_redefines_its_methods_is_refused(
        tmp_path, where, method):
    """A dict whose ``get`` / ``pop`` answered with ``set`` kept
    meta['config'] past the loader, and MMEngine's resume ran it."""
    meta = dict(epoch=1, config='import os')
    state_dict = OrderedDict(w=torch.ones(2))
    if where == 'meta':
        meta = Dressed(meta, **{method: set})
    if where == 'state_dict':
        state_dict = Dressed(state_dict, **{method: set})
    checkpoint = dict(meta=meta, state_dict=state_dict)
    if where == 'checkpoint':
        checkpoint = Dressed(checkpoint, **{method: set})
    path = str(tmp_path / 'dressed.pth')
    torch.save(checkpoint, path)
    assert torch.load(path, weights_only=True) is not None  # torch takes it
    with raises_naming(UntrustedCheckpointError, path, method,
                       '--trust-checkpoint'):
        load_local_checkpoint(path)


def test_state_dict_metadata_still_loads(tmp_path):
    """``_metadata``, which ``nn.Module.state_dict`` attaches, is the one
    attribute a loaded dict may carry."""
    state_dict = torch.nn.Linear(2, 2).state_dict()
    path = str(tmp_path / 'linear.pth')
    torch.save(dict(state_dict=state_dict), path)
    loaded = load_local_checkpoint(path)['state_dict']
    assert loaded._metadata == state_dict._metadata


def test_resume_of_a_dressed_meta_runs_nothing(stock_run, demo_root,
                                               tmp_path):
    """With MMEngine's own CheckpointHook (which reads the checkpoint as
    the loader returns it)."""
    marker = str(tmp_path / 'config_ran')
    checkpoint = load_local_checkpoint(stock_run['checkpoint'])
    checkpoint['meta']['config'] = (
        f'import os\nopen({marker!r}, "w").close()\ngpu_ids = []\n')
    path = str(tmp_path / 'dressed.pth')
    torch.save(Dressed(checkpoint, get=set), path)
    result = run('tools/train.py', ROPIM_TINY_CFG, '--work-dir',
                 str(tmp_path / 'resumed'), '--resume', path,
                 '--cfg-options',
                 f'train_dataloader.dataset.data_root={demo_root}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=2',
                 'default_hooks.checkpoint.type=CheckpointHook')
    assert not osp.exists(marker)
    assert result.returncode != 0
    assert_names(result.stderr, 'UntrustedCheckpointError', path, 'get')


@pytest.mark.parametrize('case', ['tensor', 'metadata-list', 'deep'])
def test_dressed_tensors_odd_metadata_and_deep_nesting_are_refused(
        tmp_path, case):
    """A complex weight whose ``is_complex`` answered ``set()`` passed the
    check of weights without data; a state dict's ``_metadata`` must be a
    dict (MMEngine calls its ``get``); a nesting deeper than Python's
    recursion limit stopped the walk with a RecursionError."""
    path = str(tmp_path / f'{case}.pth')
    if case == 'tensor':
        weight = torch.ones(2, dtype=torch.complex64)
        weight.is_complex = set  # pickled as the tensor's state
        content, names = dict(state_dict={'w': weight}), ('is_complex', )
    elif case == 'metadata-list':
        state_dict = OrderedDict(w=torch.ones(2))
        state_dict._metadata = [1, 2]
        content, names = dict(state_dict=state_dict), ('_metadata', 'list')
    else:  # deeper than Python's recursion limit
        nested = []
        for _ in range(5000):
            nested = [nested]
        content, names = dict(meta=dict(deep=nested)), None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # for torch.save's pickler
    try:
        torch.save(content, path)
    finally:
        sys.setrecursionlimit(limit)
    torch.load(path, weights_only=True)  # torch takes each
    if case == 'deep':
        deep, depth = load_local_checkpoint(path)['meta']['deep'], 0
        while deep:
            deep, depth = deep[0], depth + 1
        assert depth == 5000
        return
    with raises_naming(UntrustedCheckpointError, path, *names):
        load_local_checkpoint(path)
