"""Every argument of every command-line tool under tools/ has a help text
(``--help`` lists what each one does). The parsers are taken in-process
from each tool's ``parse_args`` (else ``main``): nothing runs."""
import argparse
import glob
import importlib
import os.path as osp
import re

import pytest

from helpers import REPO_ROOT

ENTRY = re.compile(r'^(def (parse_args|main)\(|parse_args = )', re.MULTILINE)


def entry_points():
    """tools/**/*.py that define ``parse_args`` or ``main`` at module level,
    relative to the repository root."""
    found = []
    for path in sorted(glob.glob(osp.join(REPO_ROOT, 'tools', '**', '*.py'),
                                 recursive=True)):
        with open(path) as f:
            if ENTRY.search(f.read()):
                found.append(osp.relpath(path, REPO_ROOT))
    return found


TOOLS = entry_points()


class Captured(Exception):

    def __init__(self, parser):
        super().__init__('parser captured')
        self.parser = parser


def tool_parser(relpath, monkeypatch):
    """The parser the tool builds, stopped at its first parse."""
    def capture(self, args=None, namespace=None):
        raise Captured(self)

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_known_args', capture)
    module = importlib.import_module(
        relpath[:-len('.py')].replace(osp.sep, '.'))
    entry = getattr(module, 'parse_args', None) or module.main
    with pytest.raises(Captured) as captured:
        entry([])
    return captured.value.parser


def test_the_tools_are_found():
    for expected in ('tools/train.py', 'tools/test.py',
                     'tools/analysis/visualize.py',
                     'tools/analysis/check_configs.py',
                     'tools/analysis/summarize_run.py',
                     'tools/benchmarks/prmim_cost.py'):
        assert expected in TOOLS
    assert len(TOOLS) >= 15


@pytest.mark.parametrize('relpath', TOOLS)
def test_every_argument_has_help(relpath, monkeypatch):
    parser = tool_parser(relpath, monkeypatch)
    assert parser.description, relpath
    without = [
        '/'.join(action.option_strings) or action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
        and (not action.help or action.help == argparse.SUPPRESS)
    ]
    assert without == [], f'{relpath}: arguments without help: {without}'
