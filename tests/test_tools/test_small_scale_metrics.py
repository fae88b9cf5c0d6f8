"""The frozen-feature metrics of tools/benchmarks/small_scale.py."""
import importlib.util
import os.path as osp

import numpy as np

from helpers import REPO_ROOT


def load_benchmark():
    path = osp.join(REPO_ROOT, 'tools', 'benchmarks', 'small_scale.py')
    spec = importlib.util.spec_from_file_location('small_scale', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clusters(centres, rng, num_per_class, noise):
    labels = np.repeat(np.arange(len(centres)), num_per_class)
    return centres[labels] + noise * rng.normal(
        size=(len(labels), centres.shape[1])), labels


def test_knn_and_linear_probe_separate_clusters_and_not_noise():
    bench = load_benchmark()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    # overlapping classes: the nearest centre is right about 95% of the time
    train_x, train_y = clusters(centres, np.random.default_rng(1), 50, 1.2)
    test_x, test_y = clusters(centres, np.random.default_rng(2), 50, 1.2)
    nearest_centre = np.argmin(
        ((test_x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    bayes = 100 * (nearest_centre == test_y).mean()
    assert 85 < bayes < 100
    for metric in (bench.knn_accuracy, bench.linear_probe_accuracy):
        assert bayes - 10 < metric(train_x, train_y, test_x, test_y) <= 100
        # features unrelated to the labels: about chance (25%)
        noise_train = rng.normal(size=train_x.shape)
        noise_test = rng.normal(size=test_x.shape)
        assert metric(noise_train, train_y, noise_test, test_y) < 45.0


def test_mnist_sample_is_real_balanced_digits():
    from tools.dataset_converters import load_mnist_5k
    images, labels = load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    # white strokes on a black background, not noise: the border is
    # (nearly) empty, the centre is not
    assert images.max() == 255
    assert images[:, :3, :].mean() < 1 < 50 < images[:, 10:18, 10:18].mean()
    # a "1" has far less ink than an "8"
    ink = images.reshape(5000, -1).mean(1)
    assert ink[labels == 1].mean() < 0.6 * ink[labels == 8].mean()


def test_digit_folders_are_disjoint_and_sized(tmp_path):
    from PIL import Image

    from tools.dataset_converters import write_digits_imagenet_style
    counts = write_digits_imagenet_style(
        str(tmp_path), size=32, train_per_class=3, val_per_class=2)
    assert counts == {'train': 30, 'val': 20}
    seen = {}
    for split, per_class in (('train', 3), ('val', 2)):
        for digit in range(10):
            folder = tmp_path / split / str(digit)
            files = sorted(folder.glob('*.png'))
            assert len(files) == per_class
            for path in files:
                image = Image.open(path)
                assert image.size == (32, 32) and image.mode == 'RGB'
                seen.setdefault(image.tobytes(), []).append(split)
    # no digit is in both splits (nor twice in one)
    assert all(len(splits) == 1 for splits in seen.values())
    meta = (tmp_path / 'meta' / 'val.txt').read_text().split('\n')
    assert meta[0] == '0/0_0000.png 0' and len(meta[:-1]) == 20


def test_digit_writer_rejects_more_digits_than_the_sample_has(tmp_path):
    import pytest

    from tools.dataset_converters import write_digits_imagenet_style
    with pytest.raises(ValueError, match=r'train_per_class \(450\).*500'):
        write_digits_imagenet_style(str(tmp_path), train_per_class=450,
                                    val_per_class=100)


def test_schedule_options_fit_every_config_used_to_the_epochs():
    bench = load_benchmark()
    # longer runs warm up for a tenth of the epochs
    assert 'param_scheduler.1.begin=10' in bench.schedule_options(100)
    configs = [config for config, _ in bench.METHODS.values()]
    for config in set(configs) | {bench.FINETUNE_CFG}:
        cfg = bench.load_config(config,
                                bench.schedule_options(7) + [bench.NO_FLIP])
        warmup, cosine = cfg.param_scheduler
        assert (warmup.type, cosine.type) == ('LinearLR',
                                              'CosineAnnealingLR'), config
        assert (warmup.begin, warmup.end) == (0, 1)
        assert (cosine.begin, cosine.end, cosine.T_max) == (1, 7, 6)
        assert cfg.train_cfg.max_epochs == 7
        flip = cfg.train_dataloader.dataset.pipeline[2]
        assert (flip.type, flip.prob) == ('RandomFlip', 0.0), config


def test_method_options_change_existing_keys_only():
    bench = load_benchmark()
    for name, (config, options) in bench.METHODS.items():
        cfg = bench.load_config(config)
        for option in options:
            key, value = option.split('=', 1)
            *parents, leaf = key.split('.')
            node = cfg
            for part in parents:
                node = node[int(part)] if part.isdigit() else node[part]
            assert leaf in node, f'{name}: {key} is not in {config}'
            if 'pipeline.3' in key:
                assert node.type == 'FurthestSampling', (name, key)


def test_verdicts_name_the_methods_at_or_below_random_init():
    bench = load_benchmark()
    columns = bench.COLUMNS
    rows = [dict(method='random init', **dict.fromkeys(columns, 50.0)),
            dict(method='A', **dict.fromkeys(columns, 60.0)),
            dict(method='B', **dict.fromkeys(columns, 60.0))]
    rows[2]['knn_mean'] = 50.0
    lines = bench.verdicts(rows)
    assert lines[0] == 'knn_cls: every method beats random init'
    assert lines[2] == 'knn_mean: not above random init: B'
