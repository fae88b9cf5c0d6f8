"""``tools/convert_checkpoint.py`` never writes over its source (by path or
through a link), replaces an existing output only with ``--overwrite``, and
writes its output whole or not at all."""
import os
from types import SimpleNamespace

import pytest
import torch

from tools.convert_checkpoint import main as convert
from helpers import assert_names, link_output


@pytest.fixture
def run(capsys):
    """The tool's command line, in this process: its exit status and what
    it printed."""
    def run(*args):
        try:
            convert([str(arg) for arg in args])
            returncode = 0
        except SystemExit as error:
            returncode = error.code
        printed = capsys.readouterr()
        return SimpleNamespace(returncode=returncode, stdout=printed.out,
                               stderr=printed.err)
    return run


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


def test_a_hard_link_to_the_source_is_refused(run_checkpoint, tmp_path, run):
    """The old guard compared real paths, and a hard link has its own: the
    training checkpoint was replaced by its backbone."""
    link = tmp_path / 'backbone.pth'
    os.link(run_checkpoint, link)
    before = run_checkpoint.read_bytes()
    result = run(run_checkpoint, link)
    assert result.returncode != 0, result.stdout + result.stderr
    assert_names(result.stderr, 'dst', str(link), 'source')
    assert run_checkpoint.read_bytes() == before
    symlink = tmp_path / 'latest.pth'
    symlink.symlink_to(run_checkpoint)
    result = run(symlink, run_checkpoint)
    assert result.returncode != 0
    assert_names(result.stderr, 'dst', str(run_checkpoint), 'source')
    assert run_checkpoint.read_bytes() == before


def test_an_existing_output_is_replaced_only_with_overwrite(
        run_checkpoint, tmp_path, run):
    out = tmp_path / 'backbone.pth'
    out.write_bytes(b'weights of another run')
    result = run(run_checkpoint, out)
    assert result.returncode != 0
    assert_names(result.stderr, 'dst', str(out), '--overwrite')
    assert out.read_bytes() == b'weights of another run'
    result = run(run_checkpoint, out, '--overwrite')
    assert result.returncode == 0, result.stderr
    state = torch.load(str(out), weights_only=True)['state_dict']
    assert sorted(state) == ['layers.0.attn.qkv.weight', 'pos_embed']
    assert [p.name for p in tmp_path.iterdir()
            if p.name.endswith('.tmp')] == []  # written through a rename


@pytest.mark.parametrize('link', ['hard', 'symbolic', 'dangling'])
def test_a_linked_output_is_replaced_never_written_through(
        run_checkpoint, tmp_path, link, run):
    """A link at the output is an existing output (a dangling symbolic link
    too: it was replaced without --overwrite); with --overwrite it becomes
    a new file, and the file it named keeps its content."""
    other, out = link_output(tmp_path, 'backbone.pth', link)
    result = run(run_checkpoint, out)
    assert result.returncode != 0, result.stdout
    assert_names(result.stderr, repr(str(out)), '--overwrite')
    assert out.is_symlink() == (link != 'hard')
    result = run(run_checkpoint, out, '--overwrite')
    assert result.returncode == 0, result.stderr
    assert other.read_bytes() == b'weights of another run'
    assert not out.is_symlink() and not os.path.samefile(out, other)
    assert 'pos_embed' in torch.load(str(out), weights_only=True)[
        'state_dict']
