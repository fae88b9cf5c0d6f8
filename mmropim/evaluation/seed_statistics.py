"""Values measured over seeds: mean and sample standard deviation, and
verdicts that call a difference only beyond two standard errors."""
from typing import Dict, Sequence, Tuple

import numpy as np


def seed_means(rows: Sequence[dict], keys: Sequence[str]) -> Dict[str, float]:
    """The mean and the sample standard deviation over ``rows`` (one per
    seed) of each of ``keys``.

    Args:
        rows (Sequence[dict]): The same row, measured once per seed.
        keys (Sequence[str]): The measured values to summarize.

    Returns:
        dict[str, float]: ``key`` (the mean) and ``key + '_std'`` (the
        sample standard deviation, ddof 1; 0.0 for a single seed), in the
        order of ``keys``.
    """
    if not rows:
        raise ValueError('seed_means needs at least one row, got none')
    summary = {}
    for key in keys:
        values = np.array([row[key] for row in rows], np.float64)
        summary[key] = float(values.mean())
        summary[f'{key}_std'] = (float(values.std(ddof=1))
                                 if len(values) > 1 else 0.0)
    return summary


def compare_means(row: dict, other: dict, key: str) -> Tuple[str, float,
                                                             float]:
    """``row`` against ``other`` on ``key``, both summarized over the same
    number of seeds (``seeds``, ``key`` and ``key + '_std'``, as
    :func:`seed_means` gives them).

    Returns:
        tuple[str, float, float]: ``'above'`` / ``'below'`` when the
        difference of the means is more than two standard errors
        (sqrt((s1^2 + s2^2) / n)), else ``'tie'``; with one seed (no spread)
        the plain sign of the difference; then the difference and the
        standard error.
    """
    difference = row[key] - other[key]
    error = np.sqrt((row[f'{key}_std']**2 + other[f'{key}_std']**2) /
                    row['seeds'])
    if difference > 2 * error:
        word = 'above'
    elif difference < -2 * error:
        word = 'below'
    else:
        word = 'tie'
    return word, difference, error


def mean_std_text(row: dict, key: str) -> str:
    """``key`` of a summarized row with one decimal: the mean, followed by
    `` ± `` and the standard deviation when there is more than one seed."""
    if row['seeds'] == 1:
        return f'{row[key]:.1f}'
    return f'{row[key]:.1f} ± {row[key + "_std"]:.1f}'
