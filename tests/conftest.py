import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory):
    """The demo image set, written once per test session."""
    from mmropim.datasets import write_imagenet_style
    root = str(tmp_path_factory.mktemp('demo') / 'imagenet')
    write_imagenet_style(root)
    return root + '/'
