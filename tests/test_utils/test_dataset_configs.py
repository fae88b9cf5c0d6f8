"""The one walk over a dataset config and the datasets it wraps, which the
class-folder, data-root and type-name checks share."""
from mmropim.utils.dataset_configs import dataset_configs


def test_every_wrapped_dataset_with_its_config_path():
    a, b, c = (dict(type='CustomDataset', data_root=name)
               for name in 'abc')
    config = dict(type='ConcatDataset', datasets=[
        dict(type='RepeatDataset', times=2, dataset=a), b,
        dict(type='ClassBalancedDataset', dataset=dict(
            type='RepeatDataset', dataset=c))
    ])
    found = list(dataset_configs(config, 'train_dataloader.dataset'))
    assert [where for where, _ in found] == [
        'train_dataloader.dataset',
        'train_dataloader.dataset.datasets.0',
        'train_dataloader.dataset.datasets.0.dataset',
        'train_dataloader.dataset.datasets.1',
        'train_dataloader.dataset.datasets.2',
        'train_dataloader.dataset.datasets.2.dataset',
        'train_dataloader.dataset.datasets.2.dataset.dataset',
    ]
    assert [d for _, d in found][2] is a and found[6][1] is c
    assert list(dataset_configs(None, 'x')) == []
    assert list(dataset_configs('not a dict', 'x')) == []
