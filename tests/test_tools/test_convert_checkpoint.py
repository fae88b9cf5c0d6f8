"""``tools/convert_checkpoint.py`` never writes over its source (by path or
through a link), replaces an existing output only with ``--overwrite``, and
writes its output whole or not at all."""
import os
import subprocess
import sys

import pytest
import torch

from helpers import REPO_ROOT


def run(*args):
    return subprocess.run(
        [sys.executable, 'tools/convert_checkpoint.py', *map(str, args)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture
def run_checkpoint(tmp_path):
    """A small pre-training checkpoint: backbone, neck and meta."""
    path = tmp_path / 'epoch_4.pth'
    torch.save(
        dict(state_dict={
            'backbone.pos_embed': torch.randn(1, 5, 8),
            'backbone.layers.0.attn.qkv.weight': torch.randn(24, 8),
            'neck.decoder.weight': torch.randn(8, 8),
        }, meta=dict(epoch=4)), str(path))
    return path


def test_a_hard_link_to_the_source_is_refused(run_checkpoint, tmp_path):
    """The old guard compared real paths, and a hard link has its own: the
    training checkpoint was replaced by its backbone."""
    link = tmp_path / 'backbone.pth'
    os.link(run_checkpoint, link)
    before = run_checkpoint.read_bytes()
    result = run(run_checkpoint, link)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"dst '{link}' is the source checkpoint" in result.stderr
    assert run_checkpoint.read_bytes() == before
    symlink = tmp_path / 'latest.pth'
    symlink.symlink_to(run_checkpoint)
    result = run(symlink, run_checkpoint)
    assert result.returncode == 2
    assert 'is the source checkpoint' in result.stderr
    assert run_checkpoint.read_bytes() == before


def test_an_existing_output_is_replaced_only_with_overwrite(
        run_checkpoint, tmp_path):
    out = tmp_path / 'backbone.pth'
    out.write_bytes(b'weights of another run')
    result = run(run_checkpoint, out)
    assert result.returncode == 2
    assert f"dst '{out}' exists; pass --overwrite to replace it" \
        in result.stderr
    assert out.read_bytes() == b'weights of another run'
    result = run(run_checkpoint, out, '--overwrite')
    assert result.returncode == 0, result.stderr
    state = torch.load(str(out), weights_only=True)['state_dict']
    assert sorted(state) == ['layers.0.attn.qkv.weight', 'pos_embed']
    assert [p.name for p in tmp_path.iterdir()
            if p.name.endswith('.tmp')] == []  # written through a rename
