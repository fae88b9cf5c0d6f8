import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import mmropim  # noqa: F401
from mmropim.datasets.token_sampling import (furthest_retained,
                                             thrown_token_coverage)
from helpers import raises_naming


def sample(transform, seed=None):
    if seed is not None:
        np.random.seed(seed)
    results = transform(dict(img=np.zeros((224, 224, 3), np.uint8)))
    return results['mask'], results['throw_mask']


@pytest.mark.parametrize('throw_ratio', [0.0, 0.25, 0.5, 0.65])
@pytest.mark.parametrize('mode', ['furthest', 'random'])
def test_exact_counts_and_throw_within_mask(throw_ratio, mode):
    transform = TRANSFORMS.build(
        dict(type='FurthestSampling', throw_ratio=throw_ratio, mode=mode))
    for _ in range(20):
        mask, throw = sample(transform)
        assert mask.shape == throw.shape == (14, 14)
        assert mask.sum() == round(196 * 0.75) == 147
        assert throw.sum() == round(196 * throw_ratio)
        assert not (throw.astype(bool) & ~mask.astype(bool)).any()
        retained = mask.astype(bool) & ~throw.astype(bool)
        assert retained.sum() == 147 - round(196 * throw_ratio)


@pytest.mark.parametrize('mode', ['furthest', 'random'])
def test_simmim_mask_blocks(mode):
    """mask_patch_size=32 (SimMIM's ViT recipe): whole 2 x 2 token blocks
    are masked, ceil(49 * 0.6) = 30 of the 7 x 7 blocks as SimMIM's mask
    generator; the throw is still chosen token by token."""
    transform = TRANSFORMS.build(
        dict(type='FurthestSampling', mask_ratio=0.6, throw_ratio=0.3,
             mask_patch_size=32, mode=mode))
    split_blocks = 0
    for seed in range(20):
        mask, throw = sample(transform, seed)
        blocks = mask.reshape(7, 2, 7, 2).transpose(0, 2, 1, 3)
        block_sums = blocks.reshape(49, 4).sum(1)
        assert set(block_sums.tolist()) <= {0, 4}
        assert mask.sum() == 4 * 30 == 120
        assert throw.sum() == round(196 * 0.3) == 59
        assert not (throw.astype(bool) & ~mask.astype(bool)).any()
        thrown_per_block = throw.reshape(7, 2, 7, 2).sum((1, 3))
        split_blocks += int(((thrown_per_block > 0) &
                             (thrown_per_block < 4)).sum())
    # some masked blocks are partly retained, partly thrown
    assert split_blocks > 0
    # the token-level default is unchanged: 147 single tokens at 0.75
    token_mask, _ = sample(TRANSFORMS.build(dict(type='FurthestSampling')), 0)
    assert token_mask.sum() == 147


def test_same_seed_same_masks_other_seed_other_masks():
    transform = TRANSFORMS.build(dict(type='FurthestSampling'))
    first, second = sample(transform, seed=7), sample(transform, seed=7)
    other = sample(transform, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[1], other[1])


def test_greedy_choice_is_farthest_point_sampling():
    rng = np.random.default_rng(0)
    coords = np.stack(np.divmod(np.arange(64), 8), axis=1)
    chosen = furthest_retained(coords, 10, rng)
    assert len(set(chosen.tolist())) == 10
    # every pick after the first is at maximal distance from the previous
    for i in range(1, 10):
        picked = coords[chosen[:i]]
        dist = np.sqrt(((coords[:, None] - picked[None]) ** 2).sum(-1))
        nearest = dist.min(1)
        assert nearest[chosen[i]] == pytest.approx(nearest.max())


def test_furthest_sampling_covers_thrown_tokens_better_than_random():
    furthest = TRANSFORMS.build(dict(type='FurthestSampling', mode='furthest'))
    random = TRANSFORMS.build(dict(type='FurthestSampling', mode='random'))
    np.random.seed(0)
    cover_furthest = np.mean(
        [thrown_token_coverage(*sample(furthest)) for _ in range(300)])
    cover_random = np.mean(
        [thrown_token_coverage(*sample(random)) for _ in range(300)])
    assert cover_furthest < cover_random


def test_retained_tokens_are_spread_out():
    # furthest sampling leaves no two retained tokens adjacent far more
    # often than random throwing does
    def min_pair_distance(mask, throw):
        kept = np.argwhere(mask.astype(bool) & ~throw.astype(bool))
        d = np.sqrt(((kept[:, None] - kept[None]) ** 2).sum(-1))
        return d[np.triu_indices(len(kept), 1)].min()

    furthest = TRANSFORMS.build(dict(type='FurthestSampling'))
    random = TRANSFORMS.build(dict(type='FurthestSampling', mode='random'))
    np.random.seed(1)
    spread_furthest = np.mean(
        [min_pair_distance(*sample(furthest)) for _ in range(50)])
    spread_random = np.mean(
        [min_pair_distance(*sample(random)) for _ in range(50)])
    assert spread_furthest > spread_random


@pytest.mark.parametrize('kwargs,names', [
    (dict(throw_ratio=0.75), ('throw_ratio=0.75', 'mask_ratio=0.75')),
    (dict(throw_ratio=0.8), ('throw_ratio=0.8', 'mask_ratio=0.75')),
    (dict(throw_ratio=-0.1), ('throw_ratio', '>= 0', '-0.1')),
    (dict(input_size=200), ('input_size 200', 'patch_size 16')),
    (dict(mask_ratio=1.0), ('mask_ratio', '(0, 1)', '1.0')),
    (dict(mode='nearest'), ('mode', "'furthest'", "'random'", "'nearest'")),
    (dict(mask_patch_size=24),
     ('mask_patch_size 24', 'patch_size 16', 'input_size 224')),
    (dict(mask_patch_size=48),
     ('mask_patch_size 48', 'patch_size 16', 'input_size 224')),
    (dict(mask_patch_size=0), ('mask_patch_size', '0')),
])
def test_bad_arguments_are_rejected(kwargs, names):
    with raises_naming(ValueError, *names):
        TRANSFORMS.build(dict(type='FurthestSampling', **kwargs))


def test_image_of_another_size_is_rejected():
    transform = TRANSFORMS.build(dict(type='FurthestSampling'))
    with raises_naming(ValueError, '224x224', '192x192', 'input_size'):
        transform(dict(img=np.zeros((192, 192, 3), np.uint8)))
