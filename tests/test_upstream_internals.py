# Copyright (c) OpenMMLab. All rights reserved.
"""No upstream private name outside ``mmropim/compat.py``.

A name that starts with one underscore belongs to the package that
defines it and changes without notice. The scan below finds every such
name that our code reads, writes, overrides or imports from MMEngine,
MMPretrain, MMCV, MMSeg, MMDet, torch or timm:

- ``obj._name`` and ``getattr(obj, '_name')`` where our own code never
  defines ``_name`` (as a function, a class, an argument, a
  ``self._name`` attribute or a module or class variable), and the string
  ``'_name'`` where the source of an upstream module the file imports
  from mentions ``_name``;
- ``_name`` used in the body of one of our classes when an upstream class
  in its MRO mentions ``_name`` in its source (an override, a shared
  attribute, ``super()._name``);
- ``from upstream import _name`` and ``upstream._module`` imports.
"""
import ast
import importlib
import inspect
import itertools
import pkgutil
import re
from pathlib import Path

import pytest

import mmropim
from mmropim import compat

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ('mmengine', 'mmpretrain', 'mmcv', 'mmseg', 'mmdet', 'torch',
            'timm')
PRIVATE = re.compile(r'^_[A-Za-z]\w*$')
COMPAT = ROOT / 'mmropim' / 'compat.py'


def _is_private(name):
    # ``_base_`` / ``_delete_``: MMEngine's public config keywords
    return isinstance(name, str) and bool(PRIVATE.match(name)) and \
        not name.endswith('_')


def _sources(roots=('mmropim', 'tools')):
    for root in roots:
        for path in sorted((ROOT / root).rglob('*.py')):
            yield path, ast.parse(path.read_text(), filename=str(path))


def _own_names(trees):
    """Private names our code defines: functions, classes, variables and
    ``self.`` / ``cls.`` attributes."""
    own = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(
                    node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(
                    node.ctx, ast.Store) and isinstance(
                        node.value, ast.Name) and node.value.id in ('self',
                                                                    'cls'):
                own.add(node.attr)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
            elif isinstance(node, ast.alias) and node.asname:
                own.add(node.asname)
    return {name for name in own if _is_private(name)}


def _imported_upstream_names(tree):
    """The private identifiers in the sources of the upstream modules a
    file imports from (and of the modules that define what it imports)."""
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.level == 0 and node.module.split('.')[0] in UPSTREAM:
            module = importlib.import_module(node.module)
            modules.add(module)
            for alias in node.names:
                defining = inspect.getmodule(getattr(module, alias.name,
                                                     None))
                if defining is not None:
                    modules.add(defining)
    names = set()
    for module in modules:
        try:
            names |= set(re.findall(r'\b(_[A-Za-z]\w*)\b',
                                    inspect.getsource(module)))
        except (OSError, TypeError):  # built in
            pass
    return names


def _foreign_uses(path, tree, own):
    """``(line, name)`` of the private names a file uses and does not
    define."""
    found = []
    upstream = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split('.')[0] in UPSTREAM:
            parts = node.module.split('.')
            names = [alias.name for alias in node.names]
            found += [(node.lineno, f'{node.module}.{name}')
                      for name in names if _is_private(name)]
            if any(_is_private(part) for part in parts):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names
                      if alias.name.split('.')[0] in UPSTREAM and any(
                          _is_private(part)
                          for part in alias.name.split('.'))]
        elif isinstance(node, ast.Attribute) and _is_private(
                node.attr) and node.attr not in own:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and _is_private(node.value):
            if upstream is None:
                upstream = _imported_upstream_names(tree)
            if node.value in upstream:
                found.append((node.lineno, repr(node.value)))
    return found


def _our_classes():
    for info in pkgutil.walk_packages(mmropim.__path__, 'mmropim.'):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name:
                yield cls


def _tool_classes():
    """The classes the scripts of tools/ define (a script is imported only
    when it defines one; its ``main`` does not run)."""
    for path in sorted((ROOT / 'tools').rglob('*.py')):
        if not any(isinstance(node, ast.ClassDef)
                   for node in ast.walk(ast.parse(path.read_text()))):
            continue
        name = '.'.join(path.relative_to(ROOT).with_suffix('').parts)
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name:
                yield cls


def _names_in_class(cls):
    tree = ast.parse(inspect.getsource(cls).lstrip())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return {name for name in names if _is_private(name)}


def _upstream_names(cls):
    """The private names in the sources of a class's upstream bases and of
    the upstream functions it takes as its own (``step =
    AmpOptimWrapper.step``)."""
    names = set()
    borrowed = [
        value for value in vars(cls).values() if inspect.isfunction(value)
        and value.__module__.split('.')[0] in UPSTREAM
    ]
    for part in [*cls.__mro__[1:], *borrowed]:
        if part.__module__.split('.')[0] not in UPSTREAM:
            continue
        try:
            source = inspect.getsource(part)
        except (OSError, TypeError):  # built in
            source = ' '.join(vars(part))
        names |= set(re.findall(r'\b(_[A-Za-z]\w*)\b', source))
    return names


def private_names_outside_compat():
    trees = list(_sources())
    own = _own_names(trees)
    found = []
    for path, tree in trees:
        if path == COMPAT:
            continue
        rel = path.relative_to(ROOT)
        found += [f'{rel}:{line}: {name}'
                  for line, name in _foreign_uses(path, tree, own)]
    for cls in itertools.chain(_our_classes(), _tool_classes()):
        upstream = _upstream_names(cls)
        for ours in cls.__mro__:  # with our mixins
            if ours.__module__.split('.')[0] not in ('mmropim',
                                                     'tools') or \
                    ours.__module__ == compat.__name__:
                continue
            found += [f'{ours.__module__}.{ours.__qualname__}: {name}'
                      for name in sorted(_names_in_class(ours) & upstream)]
    return sorted(set(found))


def test_no_upstream_private_name_outside_compat():
    found = private_names_outside_compat()
    assert not found, (
        'upstream private names used outside mmropim/compat.py (name them '
        'there, with a test in tests/test_compat.py):\n' + '\n'.join(found))


@pytest.mark.parametrize('snippet, expected', [
    ('from mmengine.hooks.checkpoint_hook import _helper', 'helper'),
    ('import torch._dynamo', 'torch._dynamo'),
    ('def f(buffer):\n    return buffer._log_history', '_log_history'),
    ("from mmengine.runner import Runner\n"
     "def f(runner):\n    return getattr(runner, '_resume')", "'_resume'"),
])
def test_the_scan_finds_each_kind_of_access(snippet, expected):
    tree = ast.parse(snippet)
    found = _foreign_uses(Path('snippet.py'), tree, set())
    assert any(expected in name for _, name in found), found


def test_the_scan_finds_an_override_of_an_upstream_private_method():
    from mmengine.hooks import CheckpointHook

    class Override(CheckpointHook):

        def _save_checkpoint_with_step(self, runner, step, meta):
            pass

    assert '_save_checkpoint_with_step' in (
        _names_in_class(Override) & _upstream_names(Override))
