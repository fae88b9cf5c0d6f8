"""The README stays short and every relative link in it and in docs/
reaches an existing file (and heading, for ``#anchor`` links)."""
import glob
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
