"""The README stays short and every relative link in it and in docs/
reaches an existing file (and heading, for ``#anchor`` links)."""
import ast
import glob
import inspect
import os.path as osp
import re

import pytest

from helpers import REPO_ROOT

LINK = re.compile(r'\]\(([^)\s]+)\)')
DOCS = [osp.join(REPO_ROOT, 'README.md')] + sorted(
    glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')))


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path):
    with open(path) as f:
        return {
            github_anchor(line.lstrip('#'))
            for line in f if line.startswith('#')
        }


def test_readme_is_short():
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        assert len(f.readlines()) < 200


@pytest.mark.parametrize('doc', DOCS, ids=[osp.basename(d) for d in DOCS])
def test_relative_links_resolve(doc):
    with open(doc) as f:
        targets = LINK.findall(f.read())
    broken = []
    for target in targets:
        if target.startswith(('http://', 'https://', 'mailto:')):
            continue
        path, _, anchor = target.partition('#')
        full = osp.normpath(osp.join(osp.dirname(doc), path)) if path \
            else doc
        if not osp.exists(full):
            broken.append(target)
        elif anchor and full.endswith('.md') and anchor not in anchors(full):
            broken.append(target)
    assert not broken, f'{doc}: broken links {broken}'


FIDELITY = osp.join(REPO_ROOT, 'docs', 'fidelity.md')
CONFIG_LINE = re.compile(r'^config: `([^`]+)`')
CELL_CODE = re.compile(r'`([^`]+)`')


def fidelity_claims():
    """(config, key, value) of every table row of docs/fidelity.md that
    names a key and gives our value."""
    claims, config = [], None
    with open(FIDELITY) as f:
        for line in f:
            match = CONFIG_LINE.match(line)
            if match:
                config = match.group(1)
                continue
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) != 6 or config is None:
                continue
            key, ours = CELL_CODE.search(cells[1]), CELL_CODE.search(cells[2])
            if key and ours:
                claims.append(
                    (config, key.group(1), ast.literal_eval(ours.group(1))))
    return claims


def class_default(component, name):
    """The default of ``name`` in the constructor of the registered class a
    component config names (mmpretrain's registries, mmropim imported)."""
    from mmpretrain.registry import MODELS, TRANSFORMS

    import mmropim  # noqa: F401
    for registry in (MODELS, TRANSFORMS):
        cls = registry.get(component['type'])
        if cls is not None:
            break
    assert cls is not None, component['type']
    for klass in cls.__mro__:
        parameter = inspect.signature(klass.__init__).parameters.get(name)
        if parameter is not None:
            return parameter.default
    raise KeyError(f'{component["type"]} takes no {name!r}')


def resolve(cfg, key):
    node = cfg
    parts = key.split('.')
    for depth, part in enumerate(parts):
        if isinstance(node, (list, tuple)):
            node = node[int(part)]
        elif part in node:
            node = node[part]
        else:
            assert depth == len(parts) - 1 and 'type' in node, key
            return class_default(node, part)
    return node


def same_value(actual, claimed):
    if isinstance(claimed, float):
        return actual == pytest.approx(claimed, rel=1e-6)
    if isinstance(claimed, tuple):
        return len(actual) == len(claimed) and all(
            same_value(a, c) for a, c in zip(actual, claimed))
    return actual == claimed


def test_fidelity_tables_match_the_configs():
    from mmengine.config import Config
    claims = fidelity_claims()
    configs = {config for config, _, _ in claims}
    assert len(claims) >= 60 and len(configs) >= 6
    loaded = {c: Config.fromfile(osp.join(REPO_ROOT, c)) for c in configs}
    wrong = [(config, key, claimed, resolve(loaded[config], key))
             for config, key, claimed in claims
             if not same_value(resolve(loaded[config], key), claimed)]
    assert wrong == []
