"""The frozen-feature read-outs of mmropim.evaluation: class / mean tokens,
cosine k-NN and linear probe."""
import numpy as np
import torch

from mmropim.evaluation import (knn_accuracy, linear_probe_accuracy,
                                token_readouts)


def clusters(centres, rng, num_per_class, noise):
    labels = np.repeat(np.arange(len(centres)), num_per_class)
    return centres[labels] + noise * rng.normal(
        size=(len(labels), centres.shape[1])), labels


def test_knn_and_linear_probe_separate_clusters_and_not_noise():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    # overlapping classes: the nearest centre is right about 95% of the time
    train_x, train_y = clusters(centres, np.random.default_rng(1), 50, 1.2)
    test_x, test_y = clusters(centres, np.random.default_rng(2), 50, 1.2)
    nearest_centre = np.argmin(
        ((test_x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    bayes = 100 * (nearest_centre == test_y).mean()
    assert 85 < bayes < 100
    for metric in (knn_accuracy, linear_probe_accuracy):
        assert bayes - 10 < metric(train_x, train_y, test_x, test_y) <= 100
        # features unrelated to the labels: about chance (25%)
        noise_train = rng.normal(size=train_x.shape)
        noise_test = rng.normal(size=test_x.shape)
        assert metric(noise_train, train_y, noise_test, test_y) < 45.0


def test_knn_votes_by_cosine_similarity_of_the_k_nearest():
    """Only the k nearest vote, each with weight exp(cosine / 0.07): one
    neighbour at cosine 1 outweighs one at 0.97 (weight 0.65) but not two;
    four far ones (cosine 0.5) weigh nothing against it. Lengths do not
    matter."""
    test_x, test_y = np.array([[2.0, 0.0]]), np.array([0])
    near = np.array([[1.0, 0.0], [0.97, 0.2431], [0.97, -0.2431],
                     [1.94, 0.4862]])
    near_y = np.array([0, 1, 1, 1])
    assert knn_accuracy(near, near_y, test_x, test_y, k=1) == 100.0
    assert knn_accuracy(near, near_y, test_x, test_y, k=2) == 100.0
    assert knn_accuracy(near, near_y, test_x, test_y, k=3) == 0.0
    far = np.array([[1.0, 0.0], [0.5, 0.866], [0.5, -0.866], [1.0, 1.732],
                    [1.5, -2.598]])
    far_y = np.array([0, 1, 1, 1, 1])
    assert knn_accuracy(far, far_y, test_x, test_y, k=5) == 100.0


class PixelTokens(torch.nn.Module):
    """A stand-in ViT: every pixel is a token, the first one the class
    token; counts its calls."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.calls = []

    def forward(self, x):
        self.calls.append(len(x))
        return (self.scale * x.flatten(2).transpose(1, 2), )


def test_token_readouts_are_the_class_token_and_the_mean_patch_token():
    vit = PixelTokens()
    first, second = torch.randn(5, 3, 4, 4), torch.randn(2, 3, 4, 4)
    features = token_readouts(vit, [first, second], chunk_size=2)
    assert vit.calls == [2, 2, 1, 2]
    assert list(features) == ['cls', 'mean']
    for split, images in enumerate((first, second)):
        tokens = images.flatten(2).transpose(1, 2)
        np.testing.assert_allclose(features['cls'][split],
                                   tokens[:, 0].numpy())
        np.testing.assert_allclose(features['mean'][split],
                                   tokens[:, 1:].mean(1).numpy(), rtol=1e-5,
                                   atol=1e-6)
        assert features['mean'][split].shape == (len(images), 3)
