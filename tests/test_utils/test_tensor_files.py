"""mmropim.utils.tensor_files: the converters' output, written whole or not
at all, in the format its name says, loadable with weights_only=True."""
import os

import pytest
import torch
from safetensors.torch import load_file

from mmropim.utils.tensor_files import save_tensor_file
from helpers import link_output, raises_naming


class Custom:
    """An object ``torch.load(weights_only=True)`` refuses."""


def files(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize('name', ['out.pth', 'out.safetensors'])
def test_the_state_reads_back_from_the_file_its_name_says(tmp_path, name):
    state = {'blocks.0.weight': torch.randn(3, 4), 'norm.bias': torch.ones(4)}
    path = tmp_path / name
    size = save_tensor_file(state, str(path))
    assert size == path.stat().st_size
    loaded = load_file(str(path)) if name.endswith('.safetensors') else \
        torch.load(str(path), weights_only=True)
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        torch.testing.assert_close(loaded[key], value)
    assert files(tmp_path) == [name]  # no temporary file left


@pytest.mark.parametrize('name, state, names', [
    ('out.safetensors', {'w': torch.zeros(1), 'meta': {}},
     ["'meta': 'dict'", 'flat dict of tensors', '.pth']),
    ('out.pth', {'w': torch.zeros(1), 'meta': Custom()},
     ['weights_only=True', 'Custom']),
])
def test_a_state_the_format_cannot_hold_leaves_the_output_as_it_was(
        tmp_path, name, state, names):
    """Refused before the output is touched (a plain torch.save wrote a
    file that its users then could not load)."""
    path = tmp_path / name
    path.write_bytes(b'weights of another run')
    with raises_naming(ValueError, str(path), *names):
        save_tensor_file(state, str(path))
    assert path.read_bytes() == b'weights of another run'
    assert files(tmp_path) == [name]


@pytest.mark.parametrize('link', ['hard', 'symbolic'])
def test_a_link_at_the_output_becomes_a_new_file(tmp_path, link):
    other, path = link_output(tmp_path, 'out.pth', link)
    save_tensor_file({'w': torch.ones(2)}, str(path))
    assert other.read_bytes() == b'weights of another run'
    assert not path.is_symlink() and not os.path.samefile(path, other)
    assert torch.load(str(path), weights_only=True)['w'].tolist() == [1, 1]


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'out.pth'
    path.write_bytes(b'weights of another run')

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_tensor_file({'w': torch.ones(2)}, str(path))
    assert path.read_bytes() == b'weights of another run'
    assert files(tmp_path) == ['out.pth']
