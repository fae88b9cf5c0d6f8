"""mmropim as an OpenMMLab codebase: a wheel built from the sources and
installed (not editable) next to the pinned stack serves ``mmropim::``
config names, ``mim search mmropim`` and ``mim train mmropim CONFIG``; a
clone installed in editable mode names what it lacks."""
import os
import shutil
import subprocess
import sys

import pytest

from mmropim.utils.run_config import load_config
from helpers import REPO_ROOT, assert_names, raises_naming, run_tool

#: What a wheel is built from (the tracked sources that setup.py reads).
SOURCES = ('setup.py', 'README.md', 'model-index.yml', 'mmropim', 'configs',
           'tools')
DEMO_CONFIG = 'ropim/ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py'


def user_config(folder):
    """A user's config that starts from a packaged one by its
    ``mmropim::`` name."""
    path = folder / 'my_ropim.py'
    path.write_text(f"_base_ = 'mmropim::{DEMO_CONFIG}'\n"
                    'train_cfg = dict(max_epochs=1)\n')
    return str(path)


@pytest.fixture(scope='module')
def installed_python(tmp_path_factory):
    """The python of a fresh environment that holds the OpenMMLab stack of
    this one (a path entry to its site-packages) and mmropim installed from
    a copy of the sources (not editable)."""
    root = tmp_path_factory.mktemp('packaging')
    source = root / 'source'
    source.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim',
                                    '*.egg-info')
    for name in SOURCES:
        path = os.path.join(REPO_ROOT, name)
        if os.path.isdir(path):
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy(path, source / name)
    env = root / 'env'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(env)], check=True)
    python = str(env / 'bin' / 'python')
    site = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
         "['purelib'])"], check=True, capture_output=True,
        text=True).stdout.strip()
    stack = subprocess.run(
        [sys.executable, '-c', 'import mmengine, os; print(os.path.dirname('
         'os.path.dirname(mmengine.__file__)))'], check=True,
        capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, 'openmmlab_stack.pth'), 'w') as f:
        f.write(stack + '\n')
    # docs/setup.md's `pip install --no-deps /path/to/mmropim`, into the
    # fresh environment's site-packages (pip builds the wheel on the way)
    run_tool('-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation',
             '--target', site, str(source))
    return python


def run_installed(python, *args, cwd):
    result = subprocess.run([python, *args], cwd=cwd, capture_output=True,
                            text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


@pytest.mark.slow
def test_installed_package_serves_mim_and_mmropim_config_names(
        installed_python, small_demo_root, tmp_path):
    where = run_installed(
        installed_python, '-c', 'import mmropim; print(mmropim.__file__)',
        cwd=tmp_path)
    assert REPO_ROOT not in where and 'site-packages' in where, where
    found = run_installed(installed_python, '-m', 'mim', 'search',
                          'mmropim', cwd=tmp_path)
    assert_names(found, 'ropim_beit-base-p16_8xb256-amp-coslr-800e_in1k',
                 'prmim_vit-base-p16_8xb512-amp-coslr-800e_in1k')
    work_dir = tmp_path / 'work'
    log = run_installed(installed_python, '-m', 'mim', 'train', 'mmropim',
                        user_config(tmp_path), '--work-dir', str(work_dir),
                        '--data-root', small_demo_root, cwd=tmp_path)
    assert (work_dir / 'epoch_1.pth').is_file(), log[-3000:]
    assert_names(log, 'mmropim/.mim/tools/train.py')


def test_an_editable_install_names_what_mmropim_config_names_need(
        tmp_path):
    with raises_naming(FileNotFoundError, 'mmropim::', 'pip install',
                       'configs/'):
        load_config(user_config(tmp_path))


def scopes(node):
    """Every ``_scope_`` value in a config dict."""
    if isinstance(node, dict):
        found = {node['_scope_']} if '_scope_' in node else set()
        return found.union(*map(scopes, node.values()))
    if isinstance(node, (list, tuple)):
        return set().union(*map(scopes, node))
    return set()


def test_a_packaged_base_builds_in_the_default_scope(tmp_path, monkeypatch):
    """MMEngine gives each component of an ``mmropim::`` base
    ``_scope_='mmropim'``, a scope without registries: the loaded config
    has none left, and the config checks find every type."""
    import mmengine.config.config as mmengine_config

    from mmropim.utils import run_config
    from mmropim.utils.config_checks import check_config_keys
    installed = tmp_path / 'site' / 'mmropim'
    (installed / '.mim').mkdir(parents=True)
    for name in ('configs', 'model-index.yml'):
        (installed / '.mim' / name).symlink_to(os.path.join(REPO_ROOT, name))
    monkeypatch.setattr(mmengine_config, 'get_installed_path',
                        lambda package: str(installed))
    monkeypatch.setattr(run_config, 'get_installed_path',
                        lambda package: str(installed))
    # a typo in an installed package's config name is not an editable
    # install: MMEngine's message, without the advice for one
    typo = tmp_path / 'typo.py'
    typo.write_text("_base_ = 'mmropim::ropim/ropim_typo.py'\n")
    with pytest.raises(FileNotFoundError) as error:
        load_config(str(typo))
    assert 'ropim_typo.py' in str(error.value)
    assert 'pip install' not in str(error.value)
    cfg = load_config(user_config(tmp_path))
    assert cfg.train_cfg.max_epochs == 1
    assert cfg.model.type == 'ROPIM'
    assert scopes(cfg.to_dict()) == set()
    check_config_keys(cfg)


def load_setup(tree):
    """setup.py's module, as if it sat in ``tree`` (its ROOT)."""
    import importlib.util
    shutil.copy(os.path.join(REPO_ROOT, 'setup.py'), tree / 'setup.py')
    spec = importlib.util.spec_from_file_location('mmropim_setup',
                                                  tree / 'setup.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mim_copies_follow_the_kind_of_build(tmp_path, monkeypatch):
    """A wheel built from a clone gets fresh copies; one built from an
    unpacked sdist (no top-level configs/) keeps the sdist's; an editable
    install removes a copy an earlier build left in the clone (it would be
    served, frozen, for mmropim:: names)."""
    clone = tmp_path / 'clone'
    (clone / 'configs' / 'ropim').mkdir(parents=True)
    (clone / 'configs' / 'ropim' / 'a.py').write_text('x = 1\n')
    (clone / 'tools').mkdir()
    (clone / 'model-index.yml').write_text('Import: []\n')
    (clone / 'mmropim' / '.mim' / 'configs').mkdir(parents=True)
    (clone / 'mmropim' / '.mim' / 'configs' / 'stale.py').write_text('')
    setup = load_setup(clone)
    mim = clone / 'mmropim' / '.mim'
    monkeypatch.setattr(sys, 'argv', ['setup.py', 'bdist_wheel'])
    setup.add_mim_extension()
    assert (mim / 'configs' / 'ropim' / 'a.py').is_file()
    assert not (mim / 'configs' / 'stale.py').exists()
    monkeypatch.setattr(sys, 'argv', ['setup.py', 'editable_wheel'])
    setup.add_mim_extension()
    assert not mim.exists()

    sdist = tmp_path / 'sdist'
    (sdist / 'mmropim' / '.mim' / 'configs').mkdir(parents=True)
    (sdist / 'mmropim' / '.mim' / 'configs' / 'b.py').write_text('')
    setup = load_setup(sdist)
    monkeypatch.setattr(sys, 'argv', ['setup.py', 'bdist_wheel'])
    setup.add_mim_extension()
    assert (sdist / 'mmropim' / '.mim' / 'configs' / 'b.py').is_file()
