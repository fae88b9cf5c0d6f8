"""Means over seeds and the two-standard-error verdicts of
mmropim.evaluation."""
import pytest

from mmropim.evaluation import compare_means, mean_std_text, seed_means


def summary(values):
    """A summarized row of one column, ``x``, over len(values) seeds."""
    return dict(seeds=len(values),
                **seed_means([dict(x=value) for value in values], ['x']))


def test_seed_means_are_the_mean_and_the_sample_std():
    rows = [dict(a=50.0, b=60.0), dict(a=52.0, b=60.0), dict(a=54.0, b=63.0)]
    means = seed_means(rows, ('b', 'a'))
    assert list(means) == ['b', 'b_std', 'a', 'a_std']
    assert (means['a'], means['a_std']) == (52.0, 2.0)  # ddof 1, not 1.63
    assert means['b'] == 61.0
    assert means['b_std'] == pytest.approx(3**0.5)
    # a single seed has no spread
    assert seed_means(rows[:1], ['a']) == dict(a=50.0, a_std=0.0)
    with pytest.raises(ValueError, match='at least one row, got none'):
        seed_means([], ['a'])


def test_verdicts_account_for_the_spread():
    base = summary([50.0, 51.0, 49.0])
    # +10 with a small spread: above; -10: below
    assert compare_means(summary([60.0, 61.0, 59.0]), base, 'x')[0] == 'above'
    assert compare_means(summary([40.0, 41.0, 39.0]), base, 'x')[0] == 'below'
    # +2 with a large spread: a tie
    word, difference, error = compare_means(summary([44.0, 60.0, 52.0]),
                                            base, 'x')
    assert word == 'tie' and difference == pytest.approx(2.0)
    assert error == pytest.approx(((8.0**2 + 1.0**2) / 3)**0.5)
    # just beyond / within two standard errors (2 sqrt(2 / 3) = 1.63 here)
    assert compare_means(summary([51.7, 52.7, 50.7]), base,
                         'x')[0] == 'above'
    assert compare_means(summary([51.6, 52.6, 50.6]), base, 'x')[0] == 'tie'


def test_with_one_seed_the_sign_decides():
    assert compare_means(summary([50.5]), summary([50.0]), 'x')[:2] == (
        'above', 0.5)
    assert compare_means(summary([49.5]), summary([50.0]), 'x')[0] == 'below'
    assert compare_means(summary([50.0]), summary([50.0]), 'x')[0] == 'tie'


def test_mean_std_text_shows_the_spread_over_several_seeds_only():
    assert mean_std_text(summary([50.0, 52.0, 54.0]), 'x') == '52.0 ± 2.0'
    assert mean_std_text(summary([52.04]), 'x') == '52.0'
