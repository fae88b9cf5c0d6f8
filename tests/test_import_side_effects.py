"""Importing mmropim registers our components and changes nothing else: no
attribute of an MMEngine / MMPretrain / MMSeg / MMDet module, no registry
entry they had, no MMEngine checkpoint loader is rebound; MMPretrain's stock
MAE / SimMIM / BEiT models compute the same loss and MMEngine loads
checkpoints the same way, with and without the import (each measured in a
fresh interpreter by tests/import_probe.py)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from helpers import REPO_ROOT


def probe(tmp_path, *flags):
    out_dir = tmp_path / '_'.join(['probe', *flags]).replace('-', '')
    out_dir.mkdir()
    result = subprocess.run(
        [sys.executable, osp.join('tests', 'import_probe.py'),
         str(out_dir), *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out_dir / 'report.json') as f:
        return json.load(f)


@pytest.fixture(scope='module')
def reports(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('import_probe')
    return dict(without=probe(tmp_path),
                with_import=probe(tmp_path, '--import-mmropim'))


@pytest.mark.slow
def test_import_rebinds_nothing_of_the_host_libraries(reports):
    assert reports['with_import']['rebound'] == []


def test_the_probe_sees_a_rebinding(reports):
    # our tools install the safe loader explicitly, for every scheme of
    # MMEngine's; the probe must see that
    assert sorted(reports['with_import']['control_rebound']) == sorted(
        f'CheckpointLoader._schemes.{prefix}' for prefix in (
            '', 'http://', 'https://', 'torchvision://', 'modelzoo://',
            'open-mmlab://', 'openmmlab://', 'mmcls://', 'pavi://',
            r'(\S+\:)?s3://', r'(\S+\:)?petrel://'))


def test_stock_models_compute_the_same_loss_with_and_without_import(reports):
    losses = reports['without']['losses']
    assert set(losses) == {'mae', 'simmim', 'beit'}
    assert all(loss > 0 for loss in losses.values())
    assert reports['with_import']['losses'] == losses


def test_mmengine_loads_checkpoints_the_same_way_with_and_without_import(
        reports):
    loads = reports['without']['checkpoints']
    assert loads['plain'] == ['w']
    # PyTorch's safe default refuses MMEngine's pickled message hub
    assert loads['run'] == 'UnpicklingError'
    assert reports['with_import']['checkpoints'] == loads


def test_downstream_registration_keeps_a_name_the_library_has():
    from mmengine.registry import Registry

    from mmropim.downstream import register_if_absent
    from mmropim.models.backbones.transfer_vit import TransferViT
    registry = Registry('models', scope='host')

    class HostsOwn:
        pass

    registry.register_module(name='TransferViT', module=HostsOwn)
    assert not register_if_absent(registry, 'TransferViT', TransferViT)
    assert registry.get('TransferViT') is HostsOwn
    assert register_if_absent(registry, 'Other', TransferViT)
    assert register_if_absent(registry, 'Other', TransferViT)  # idempotent
    assert registry.get('Other') is TransferViT


def test_table_resize_uses_mmpretrain_where_scipy_has_interp2d(monkeypatch):
    from mmpretrain.models.utils import embed

    from mmropim.utils import scipy_compat
    monkeypatch.setattr(scipy_compat, 'scipy_has_interp2d', lambda: True)
    assert scipy_compat.relative_table_resizer() is \
        embed.resize_relative_position_bias_table
    monkeypatch.setattr(scipy_compat, 'scipy_has_interp2d', lambda: False)
    assert scipy_compat.relative_table_resizer() is \
        scipy_compat.resize_relative_position_bias_table


def test_pre_training_never_imports_mmseg():
    """``import mmropim`` leaves MMSeg unimported and registers nothing into
    MMDet (which MMPretrain itself imports where installed);
    ``mmropim.downstream`` (what the transfer configs' ``custom_imports``
    name) registers the transfer components into both."""
    code = (
        'import sys\n'
        'import mmropim\n'
        'from mmdet.registry import MODELS as DET\n'
        'print("mmseg" in sys.modules, "TransferViT" in DET.module_dict)\n'
        'import mmropim.downstream\n'
        'from mmseg.registry import MODELS as SEG\n'
        'print(sorted(n for n in ("TransferViT", "TransferBEiTViT")'
        ' if n in SEG.module_dict),'
        ' sorted(n for n in ("TransferViT", "SimpleFeaturePyramid")'
        ' if n in DET.module_dict))\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    before, after = result.stdout.strip().splitlines()
    assert before == 'False False'
    assert after == ("['TransferBEiTViT', 'TransferViT'] "
                     "['SimpleFeaturePyramid', 'TransferViT']")
