"""``tools/setup_env.sh`` against a stub interpreter: which mmcv it builds,
where the environment goes, and what a failed download leaves behind.

The stub stands in for the environment's ``python``: it answers the
script's probes (torch versions, CUDA) as a test asks and fails ``pip
download`` (no network), so the script runs up to the mmcv download and
stops there, installing nothing.
"""
import os
import os.path as osp
import stat
import subprocess

import pytest

from helpers import REPO_ROOT

STUB = """#!/usr/bin/env bash
case "$*" in
  -) cat >/dev/null; echo "{mmcv}" ;;
  *"import torch, torchvision"*) echo "2.14.1 0.29.1" ;;
  *"cuda.is_available"*) echo "{probe}" ;;
  *"__version__.replace"*) echo "2.14.1" ;;
  *" download "*) echo "no network" >&2; {download} ;;
  *"-m pip"*) exit 0 ;;
  *) exit 1 ;;
esac
"""


def stub_venv(folder, cuda_probe='cpu', mmcv='', download='exit 1'):
    """A folder with a ``bin/python`` stub whose CUDA probe prints
    ``cuda_probe``, whose mmcv probe prints ``mmcv`` (``ops-cpu``,
    ``ops-cuda``, ``lite`` or nothing) and whose ``pip download`` runs the
    shell command ``download``."""
    python = folder / 'bin' / 'python'
    python.parent.mkdir(parents=True)
    python.write_text(
        STUB.format(probe=cuda_probe, mmcv=mmcv, download=download))
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return folder


def run_setup(tmp_path, venv, cwd=REPO_ROOT, **env):
    """Run the set-up script; its temporary files go to ``tmp_path/tmp``."""
    (tmp_path / 'tmp').mkdir(exist_ok=True)
    full_env = dict(
        os.environ,
        MMROPIM_VENV=str(venv),
        MMROPIM_CACHE=str(tmp_path / 'cache'),
        TMPDIR=str(tmp_path / 'tmp'),
        **env)
    if 'FORCE_CUDA' not in env:
        full_env.pop('FORCE_CUDA', None)
    return subprocess.run(['bash', osp.join(REPO_ROOT, 'tools',
                                            'setup_env.sh')],
                          cwd=cwd,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=120)


@pytest.mark.parametrize('force_cuda, probe, built', [
    (None, 'cpu', 'cpu'),
    (None, 'cuda', 'cuda'),
    ('0', 'cuda', 'cpu'),
    ('1', 'cpu', 'cuda'),
])
def test_ops_build_follows_force_cuda_then_the_gpu(tmp_path, force_cuda,
                                                   probe, built):
    venv = stub_venv(tmp_path / 'venv', cuda_probe=probe)
    env = {} if force_cuda is None else dict(FORCE_CUDA=force_cuda)
    result = run_setup(tmp_path, venv, **env)
    assert result.returncode != 0  # the stub's download fails
    assert f'with {built} ops' in result.stdout, result.stdout


def test_a_bad_force_cuda_is_refused_before_anything_is_made(tmp_path):
    venv = tmp_path / 'venv'  # no environment yet: nothing may create it
    result = run_setup(tmp_path, venv, FORCE_CUDA='yes')
    assert result.returncode == 2
    assert "FORCE_CUDA='yes'" in result.stderr
    assert '0' in result.stderr and '1' in result.stderr
    assert not venv.exists()


def test_a_failed_download_leaves_no_temporary_folder(tmp_path):
    venv = stub_venv(tmp_path / 'venv')
    result = run_setup(tmp_path, venv)
    assert result.returncode != 0
    assert 'no network' in result.stderr
    assert os.listdir(tmp_path / 'tmp') == []


def test_a_relative_venv_is_under_the_repository(tmp_path):
    """``MMROPIM_VENV=name``: the same folder from any working directory
    (``run_tests.sh`` / ``run_demo.sh`` read it from the repository root).
    ``PYTHON=false`` makes the environment's creation fail, so nothing is
    written."""
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    name = 'no-such-venv-' + tmp_path.name
    result = run_setup(tmp_path, name, cwd=str(elsewhere), PYTHON='false')
    assert result.returncode != 0
    wanted = osp.join(REPO_ROOT, name)
    assert f'creating virtual environment {wanted}\n' in result.stdout, \
        result.stdout
    assert os.listdir(elsewhere) == [] and not osp.exists(wanted)


@pytest.mark.parametrize('installed, force_cuda, rebuilt', [
    ('ops-cpu', '1', True), ('ops-cuda', '0', True),
    ('ops-cpu', '0', False), ('ops-cpu', None, False),
])
def test_force_cuda_replaces_ops_of_the_other_kind(tmp_path, installed,
                                                   force_cuda, rebuilt):
    venv = stub_venv(tmp_path / 'venv', mmcv=installed)
    env = {} if force_cuda is None else dict(FORCE_CUDA=force_cuda)
    result = run_setup(tmp_path, venv, **env)
    assert ('no network' in result.stderr) == rebuilt, result.stdout
    if rebuilt:
        assert 'replacing mmcv' in result.stdout


def test_an_interrupted_download_leaves_no_temporary_folder(tmp_path):
    """SIGTERM while ``pip download`` runs (the folder did not yet belong
    to the script when the download was inside a command substitution)."""
    import signal
    import time
    venv = stub_venv(tmp_path / 'venv',
                     download='touch "$STUB_STARTED"; sleep 60')
    started = tmp_path / 'started'
    (tmp_path / 'tmp').mkdir()
    env = dict(os.environ, MMROPIM_VENV=str(venv),
               MMROPIM_CACHE=str(tmp_path / 'cache'),
               TMPDIR=str(tmp_path / 'tmp'), STUB_STARTED=str(started))
    env.pop('FORCE_CUDA', None)
    process = subprocess.Popen(
        ['bash', osp.join(REPO_ROOT, 'tools', 'setup_env.sh')], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if started.exists():
                break
            time.sleep(0.05)
        assert started.exists()
        assert os.listdir(tmp_path / 'tmp') != []  # the download's folder
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert os.listdir(tmp_path / 'tmp') == []


def test_without_home_or_a_cache_folder_the_script_says_which(tmp_path):
    venv = stub_venv(tmp_path / 'venv')
    env = {key: value for key, value in os.environ.items()
           if key not in ('HOME', 'MMROPIM_CACHE', 'FORCE_CUDA')}
    env['MMROPIM_VENV'] = str(venv)
    result = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'setup_env.sh')], env=env,
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert 'HOME' in result.stderr and 'MMROPIM_CACHE' in result.stderr
