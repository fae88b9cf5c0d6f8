"""The frozen-feature metrics of tools/benchmarks/small_scale.py."""
import importlib.util
import os.path as osp

import numpy as np

from conftest import REPO_ROOT


def load_benchmark():
    path = osp.join(REPO_ROOT, 'tools', 'benchmarks', 'small_scale.py')
    spec = importlib.util.spec_from_file_location('small_scale', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clusters(rng, num_per_class, noise):
    centres = rng.normal(size=(4, 16)) * 3
    labels = np.repeat(np.arange(4), num_per_class)
    return centres[labels] + noise * rng.normal(size=(len(labels), 16)), \
        labels


def test_knn_and_linear_probe_separate_clusters_and_not_noise():
    bench = load_benchmark()
    rng = np.random.default_rng(0)
    train_x, train_y = clusters(rng, 30, 0.5)
    test_x, test_y = clusters(np.random.default_rng(0), 10, 0.5)
    assert bench.knn_accuracy(train_x, train_y, test_x, test_y) == 100.0
    assert bench.linear_probe_accuracy(train_x, train_y, test_x,
                                       test_y) == 100.0
    # features unrelated to the labels: about chance (25%)
    noise_train = rng.normal(size=train_x.shape)
    noise_test = rng.normal(size=test_x.shape)
    assert bench.knn_accuracy(noise_train, train_y, noise_test,
                              test_y) < 60.0
