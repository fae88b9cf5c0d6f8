"""Read-outs of frozen features: the class token and the mean of the patch
tokens of a ViT, scored by a cosine k-NN and by a linear probe."""
from typing import Dict, List, Sequence

import numpy as np
import torch

#: the read-outs of :func:`token_readouts`
READOUTS = ('cls', 'mean')


def token_readouts(vit: torch.nn.Module,
                   splits: Sequence[torch.Tensor],
                   chunk_size: int = 128) -> Dict[str, List[np.ndarray]]:
    """Frozen features of each split, without gradients.

    Args:
        vit (torch.nn.Module): A backbone whose first output is all tokens,
            class token first, (N, 1 + L, C) (MMPretrain's ``out_type='raw'``
            with a class token). Its mode is left as it is.
        splits (Sequence[torch.Tensor]): Image batches (N, 3, H, W).
        chunk_size (int): Images per forward pass.

    Returns:
        dict[str, list[np.ndarray]]: ``'cls'`` (the class token) and
        ``'mean'`` (the mean of the patch tokens), one (N, C) array per
        split.
    """
    features = {readout: [] for readout in READOUTS}
    with torch.no_grad():
        for images in splits:
            tokens = torch.cat(
                [vit(chunk)[0] for chunk in images.split(chunk_size)])
            features['cls'].append(tokens[:, 0].numpy())
            features['mean'].append(tokens[:, 1:].mean(1).numpy())
    return features


def knn_accuracy(train_x: np.ndarray,
                 train_y: np.ndarray,
                 test_x: np.ndarray,
                 test_y: np.ndarray,
                 k: int = 10,
                 temperature: float = 0.07) -> float:
    """Top-1 of a cosine k-NN with similarity-weighted votes, in %.

    Each of the ``k`` most similar training features votes for its label
    with weight ``exp(similarity / temperature)``.

    Args:
        train_x (np.ndarray): (N, C) training features.
        train_y (np.ndarray): (N,) integer labels from 0.
        test_x (np.ndarray): (M, C) features to classify.
        test_y (np.ndarray): (M,) their labels.
        k (int): Neighbours that vote.
        temperature (float): Sharpness of the vote weights.
    """
    train_x = train_x / np.linalg.norm(train_x, axis=1, keepdims=True)
    test_x = test_x / np.linalg.norm(test_x, axis=1, keepdims=True)
    similarity = test_x @ train_x.T
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    votes = np.zeros((len(test_x), train_y.max() + 1))
    for row, (indices, sims) in enumerate(
            zip(nearest, np.take_along_axis(similarity, nearest, 1))):
        np.add.at(votes[row], train_y[indices], np.exp(sims / temperature))
    return 100 * float((votes.argmax(1) == test_y).mean())


def linear_probe_accuracy(train_x: np.ndarray, train_y: np.ndarray,
                          test_x: np.ndarray, test_y: np.ndarray) -> float:
    """Top-1 in % of a logistic regression (scikit-learn, C = 1) fitted on
    the standardized training features (mean and std of the training
    split applied to both)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(train_x)
    probe = LogisticRegression(max_iter=3000, C=1.0)
    probe.fit(scaler.transform(train_x), train_y)
    return 100 * float(probe.score(scaler.transform(test_x), test_y))
