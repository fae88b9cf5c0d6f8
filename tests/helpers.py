"""Helpers shared by the tests (import them, not conftest)."""
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from tools.analysis import check_configs  # noqa: F401

__all__ = ['REPO_ROOT', 'check_configs']
