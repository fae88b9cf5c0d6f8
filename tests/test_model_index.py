"""The OpenMMLab model index (model-index.yml and the metafiles it imports)
lists every concrete ROPIM / PR-MIM config exactly once, with paths that
exist, collections that exist, and Results only where a paper's number is
quoted (``Results Source: paper``). Text-only: no model is built."""
import glob
import os.path as osp
import re

import mmpretrain
import pytest
import yaml
from mmpretrain.apis.model import ModelHub
from modelindex.load_model_index import load

from helpers import REPO_ROOT

INDEX = osp.join(REPO_ROOT, 'model-index.yml')
METHODS = ('ropim', 'prmim')
METAFILES = [f'configs/{method}/metafile.yml' for method in METHODS]
PAPER_MARKER = '# Results: as published by the paper'
LINK = re.compile(r'\]\(([^)\s]+)\)')


def load_yaml(path):
    with open(osp.join(REPO_ROOT, path)) as f:
        return yaml.safe_load(f)


def concrete_configs():
    """Every config under configs/ropim and configs/prmim outside a
    ``_base_`` folder, relative to the repository root."""
    found = set()
    for method in METHODS:
        pattern = osp.join(REPO_ROOT, 'configs', method, '**', '*.py')
        for path in glob.glob(pattern, recursive=True):
            rel = osp.relpath(path, REPO_ROOT).replace(osp.sep, '/')
            if '_base_' not in rel.split('/'):
                found.add(rel)
    return found


@pytest.fixture(scope='module')
def metafiles():
    """{metafile path: its parsed content}, in the order of the index."""
    index = load_yaml('model-index.yml')
    return {path: load_yaml(path) for path in index['Import']}


@pytest.fixture(scope='module')
def models(metafiles):
    """[(metafile path, model dict)] over the whole index."""
    return [(path, model) for path, meta in metafiles.items()
            for model in meta['Models']]


def test_index_imports_both_metafiles():
    index = load_yaml('model-index.yml')
    assert set(index) == {'Import'}
    assert index['Import'] == METAFILES
    for path in index['Import']:
        assert osp.isfile(osp.join(REPO_ROOT, path)), path


def test_collections(metafiles):
    for path, meta in metafiles.items():
        assert meta['Collections'], path
        for collection in meta['Collections']:
            assert collection['Name'], path
            for key in ('Training Data', 'Training Techniques',
                        'Training Resources', 'Architecture'):
                assert collection['Metadata'].get(key), (path, key)
            paper = collection['Paper']
            assert paper['Title'] and paper['URL'].startswith(
                'https://arxiv.org/abs/'), path
            readme = collection['README']
            assert osp.isfile(osp.join(REPO_ROOT, readme)), readme
            assert osp.dirname(readme) == osp.dirname(path), readme


def test_config_paths_exist(models):
    for path, model in models:
        config = model['Config']
        assert osp.isfile(osp.join(REPO_ROOT, config)), config
        # a metafile lists the configs of its own folder only
        assert config.startswith(osp.dirname(path) + '/'), (path, config)


def test_every_concrete_config_listed_exactly_once(models):
    listed = [model['Config'] for _, model in models]
    expected = concrete_configs()
    assert expected, 'no configs found'
    missing = sorted(expected - set(listed))
    twice = sorted({c for c in listed if listed.count(c) > 1})
    extra = sorted(set(listed) - expected)
    assert not missing, f'configs missing from the model index: {missing}'
    assert not twice, f'configs listed more than once: {twice}'
    assert not extra, f'listed but not a concrete config: {extra}'


def test_in_collection_names_a_collection_of_its_file(metafiles):
    for path, meta in metafiles.items():
        names = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in names, (path, model['Name'])


def test_names_unique_and_derived_from_the_config(models):
    """Pre-training models are named after their config file; fine-tuning
    models as MMPretrain names them, ``<arch>_<method>-pre_<rest>``
    (the benchmark config stems of the methods collide), the method named
    by the folders above ``benchmarks`` (``ropim/lgp`` is ``lgp-ropim``)."""
    names = [model['Name'] for _, model in models]
    assert len(names) == len({n.lower() for n in names}), names
    for _, model in models:
        config = model['Config']
        stem = osp.splitext(osp.basename(config))[0]
        folders = config.split('/')[1:-1]
        if 'benchmarks' in folders:
            method = '-'.join(reversed(folders[:folders.index('benchmarks')]))
            arch, rest = stem.split('_', 1)
            expected = f'{arch}_{method}-pre_{rest}'
        else:
            expected = stem
        assert model['Name'] == expected, config


def test_metadata_matches_the_config_name(models):
    """Epochs and the total batch size are the ones the file name states
    (``8xb256`` = 2048, ``300e`` = 300)."""
    for _, model in models:
        stem = osp.basename(model['Config'])
        gpus, per_gpu = re.search(r'_(\d+)xb(\d+)[-_]', stem).groups()
        epochs = re.search(r'-(\d+)e_', stem).group(1)
        meta = model['Metadata']
        assert meta['Epochs'] == int(epochs), stem
        assert meta['Batch Size'] == int(gpus) * int(per_gpu), stem
        assert meta['Training Data'], stem


def test_downstream_names_exist(models):
    names = {model['Name'] for _, model in models}
    for _, model in models:
        for name in model.get('Downstream') or []:
            assert name in names, (model['Name'], name)
            assert '/benchmarks/' not in model['Config'], model['Name']


def test_results_only_from_papers(metafiles):
    """A Results entry has Task, Dataset and numeric Metrics, and is marked
    as a paper's number in the Metadata and by a comment; demo and
    fine-tuning entries have none."""
    for path, meta in metafiles.items():
        with_results = 0
        for model in meta['Models']:
            name, results = model['Name'], model.get('Results')
            source = model['Metadata'].get('Results Source')
            if not results:
                assert source is None, name
                continue
            with_results += 1
            assert source == 'paper', name
            assert '/benchmarks/' not in model['Config'], name
            assert not model['Metadata'].get('Demo'), name
            for result in results:
                assert result['Task'] == 'Image Classification', name
                assert result['Dataset'] == 'ImageNet-1k', name
                metrics = result['Metrics']
                assert metrics, name
                for value in metrics.values():
                    assert isinstance(value, (int, float)), name
                    assert not isinstance(value, bool), name
                    assert 0 < value <= 100, name
        with open(osp.join(REPO_ROOT, path)) as f:
            markers = f.read().count(PAPER_MARKER)
        assert markers == with_results, path


def test_demo_configs_are_marked(models):
    for _, model in models:
        demo = model['Config'].endswith('_demo-64px.py')
        assert bool(model['Metadata'].get('Demo')) == demo, model['Name']
        if demo:
            assert model['Metadata']['Training Data'] != 'ImageNet-1k'


def test_fine_tuning_entries_are_image_classification(models):
    for _, model in models:
        if '/benchmarks/' in model['Config']:
            assert model['Metadata']['Task'] == 'Image Classification'


def test_readmes_list_every_model_and_links_resolve(metafiles):
    for path, meta in metafiles.items():
        for collection in meta['Collections']:
            readme = osp.join(REPO_ROOT, collection['README'])
            with open(readme) as f:
                text = f.read()
            for model in meta['Models']:
                assert f"`{model['Name']}`" in text, (readme, model['Name'])
            for target in LINK.findall(text):
                if target.startswith(('http://', 'https://')):
                    continue
                target = target.partition('#')[0]
                full = osp.normpath(osp.join(osp.dirname(readme), target))
                assert osp.exists(full), (readme, target)


def test_mmpretrain_model_hub_reads_the_index():
    """MMPretrain's ModelHub registers the index (it raises on a repeated
    name) and resolves every config, and no name repeats one of
    MMPretrain's own models (their registration would then fail)."""
    class IsolatedHub(ModelHub):
        _models_dict = {}  # leave MMPretrain's registry untouched

    IsolatedHub.register_model_index(INDEX, config_prefix=REPO_ROOT)
    ours = IsolatedHub._models_dict
    assert len(ours) == len(concrete_configs())
    for name, metainfo in ours.items():
        assert osp.isfile(metainfo.config), name

    mim_index = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                         'model-index.yml')
    if not osp.isfile(mim_index):
        pytest.skip('MMPretrain installed without its model index')
    mim = load(mim_index)
    mim.build_models_with_collections()
    theirs = {m.name.lower() for m in mim.models}
    assert not set(ours) & theirs, sorted(set(ours) & theirs)
