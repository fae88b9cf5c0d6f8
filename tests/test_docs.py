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


README_MAX_LINES = 200  # the README has fewer lines than this
README_MAX_WIDTH = 120  # and none longer than this, tables and links too


def test_readme_is_short_and_narrow():
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        lines = f.read().splitlines()
    assert len(lines) < README_MAX_LINES
    wide = [f'line {number}: {len(line)} characters'
            for number, line in enumerate(lines, 1)
            if len(line) > README_MAX_WIDTH]
    assert wide == []


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


VERDICTS = ('same', 'differs', 'equivalent', 'ours')
# a cited file and line (``path/file.py:12`` or ``:12-34``) or a table,
# section or appendix of a paper
CITED_LINE = re.compile(r'`[\w./-]+\.(?:py|sh|yaml|yml|md|txt):\d+(?:-\d+)?`')
CITED_PART = re.compile(r'\b(?:Tab|Sec|App)\. [0-9A-Z]')


def fidelity_rows(path=FIDELITY):
    """(line number, cells) of every table row of docs/fidelity.md, header
    and separator rows left out."""
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.startswith('|'):
                continue
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if cells[0] == 'hyper-parameter' or set(cells[0]) <= {'-'}:
                continue
            rows.append((number, cells))
    return rows


def evaluate_value(text):
    """The value a code cell writes, as a Python literal or an arithmetic
    expression of literals (``1.5e-4 * 2048 / 512``, ``(3 / 4, 4 / 3)``);
    nothing else is evaluated."""
    import operator
    binary = {ast.Add: operator.add, ast.Sub: operator.sub,
              ast.Mult: operator.mul, ast.Div: operator.truediv}

    def value(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            return binary[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [value(n) for n in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            return {value(k): value(v) for k, v in zip(node.keys, node.values)}
        raise ValueError(f'not a literal or an arithmetic expression: {text}')

    try:
        tree = ast.parse(text, mode='eval')
    except SyntaxError:
        raise ValueError(f'not a literal or an arithmetic expression: {text}')
    return value(tree.body)


def matches(ours, reference):
    """Whether two values are the same: numbers to a relative 1e-6,
    sequences item by item (a tuple and a list alike), mappings key by key,
    anything else exactly."""
    if isinstance(ours, bool) or isinstance(reference, bool):
        return ours is reference
    if isinstance(ours, (int, float)) and isinstance(reference, (int, float)):
        return ours == pytest.approx(reference, rel=1e-6)
    if isinstance(ours, (list, tuple)) and isinstance(reference,
                                                      (list, tuple)):
        return len(ours) == len(reference) and all(
            matches(o, r) for o, r in zip(ours, reference))
    if isinstance(ours, dict) and isinstance(reference, dict):
        return ours.keys() == reference.keys() and all(
            matches(ours[k], reference[k]) for k in ours)
    return ours == reference


def fidelity_row_problems(path=FIDELITY):
    """What is wrong with each row of a fidelity document: a verdict out of
    :data:`VERDICTS`, a reference value without a cited source, a ``same``
    row whose reference value is not ours."""
    problems = []
    for number, cells in fidelity_rows(path):
        where = f'line {number} ({cells[0]})'
        if len(cells) != 6:
            problems.append(f'{where}: {len(cells)} cells, not 6')
            continue
        _, _, ours, reference, source, verdict = cells
        if not verdict.startswith(VERDICTS):
            problems.append(f'{where}: verdict {verdict!r} does not start '
                            f'with one of {VERDICTS}')
        if reference != '—' and not (CITED_LINE.search(source)
                                     or CITED_PART.search(source)):
            problems.append(f'{where}: source {source!r} cites no file:line '
                            'and no paper table / section / appendix')
        if not verdict.startswith('same'):
            continue
        ours_code, reference_code = (CELL_CODE.match(ours),
                                     CELL_CODE.match(reference))
        if not (ours_code and reference_code):
            problems.append(f'{where}: a same row needs both values in code '
                            'at the start of their cells')
            continue
        try:
            ours_value = evaluate_value(ours_code.group(1))
            reference_value = evaluate_value(reference_code.group(1))
        except ValueError as error:
            problems.append(f'{where}: {error}')
            continue
        if not matches(ours_value, reference_value):
            problems.append(f'{where}: ours {ours_value!r} is not the '
                            f'reference {reference_value!r}')
    return problems


def test_fidelity_same_rows_match_their_reference():
    assert len(fidelity_rows()) >= 200
    assert fidelity_row_problems() == []


@pytest.mark.parametrize('broken,expected', [
    ('| crop interpolation | `k` | `\'bicubic\'` | `\'bilinear\'` '
     '| ROPIM `data/data_ropim.py:74` | same |',
     "ours 'bicubic' is not the reference 'bilinear'"),
    ('| warmup start | `k` | `1e-06` | `2.5e-7 * 1024 / 512` '
     '| ROPIM `configs/vit_base/ropim_finetune__vit_base.yaml:21` | same |',
     "ours 1e-06 is not the reference"),
    ('| warmup epochs | `k` | `5` | `5` | ROPIM code | same |',
     'cites no file:line'),
    ('| precision | `k` | `\'AmpOptimWrapper\'` | fp16 | ROPIM `a.py:1` '
     '| same intent |', 'needs both values in code'),
    ('| x | `k` | `1` | `1` | ROPIM `a.py:1` | close enough |',
     'does not start with one of'),
])
def test_fidelity_check_catches_a_broken_row(tmp_path, broken, expected):
    """The check fails on a wrong or unsourced row (rows like those this
    document once had)."""
    doc = tmp_path / 'fidelity.md'
    doc.write_text('| hyper-parameter | key | ours | reference | source '
                   '| same? |\n|---|---|---|---|---|---|\n' + broken + '\n')
    problems = fidelity_row_problems(str(doc))
    assert len(problems) == 1 and expected in problems[0]


# words about how the project is made, not about the project
OFF_TOPIC = re.compile(r'\bissue #?\d+|\.\./shared\b|\bspec/[A-Z]+\.md|'
                       r'\blent\b|\bsessions?\b', re.IGNORECASE)


def project_texts():
    """The docs, the config READMEs and every Python file of the package,
    the tools and the configs."""
    paths = DOCS + sorted(
        glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.md'),
                  recursive=True))
    for folder in ('mmropim', 'tools', 'configs'):
        paths += sorted(
            glob.glob(osp.join(REPO_ROOT, folder, '**', '*.py'),
                      recursive=True))
    return sorted(set(paths))


def off_topic_lines(paths):
    found = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            for number, line in enumerate(f, 1):
                if OFF_TOPIC.search(line):
                    found.append(
                        f'{osp.relpath(path, REPO_ROOT)}:{number}: '
                        f'{line.strip()}')
    return found


def test_docs_and_code_speak_of_the_project_only():
    assert off_topic_lines(project_texts()) == []


def test_off_topic_check_finds_process_talk(tmp_path):
    doc = tmp_path / 'notes.md'
    doc.write_text('Fixed in issue 13.\nNo GPU was lent.\nSee '
                   '../shared/spec/ROPIM.md.\nThe ViT is fine.\n')
    assert [line.split(': ', 1)[1] for line in off_topic_lines([str(doc)])
            ] == ['Fixed in issue 13.', 'No GPU was lent.',
                  'See ../shared/spec/ROPIM.md.']
