import math

import pytest
import torch

from mmropim.models.utils import CountSketch, sketch_size_from_ratio
from helpers import raises_naming

# (K, rho): K' = 28 | 196 (authors), 9 of 64 (demo), 15 of 50 (K' does not
# divide K), 1 of 10 (one bucket), 9 of 10 (almost nothing removed).
CASES = [(196, 1 / 7), (64, 1 / 7), (50, 0.3), (10, 0.1), (10, 0.9)]


def eye(k):
    return torch.eye(k, dtype=torch.float64)


@pytest.mark.parametrize('num_tokens,rho', CASES)
def test_projector_is_symmetric_idempotent_with_rank_k_prime(num_tokens, rho):
    sketch = CountSketch.draw(3, num_tokens, rho)
    pi = sketch.matrix().double()
    k_prime = round(rho * num_tokens)
    assert sketch.sketch_size == k_prime
    torch.testing.assert_close(pi, pi.transpose(1, 2))
    torch.testing.assert_close(pi @ pi, pi)
    assert torch.linalg.matrix_rank(pi).tolist() == [k_prime] * 3
    # trace of a projector is its rank
    torch.testing.assert_close(
        pi.diagonal(dim1=1, dim2=2).sum(-1),
        torch.full((3, ), float(k_prime), dtype=torch.float64))


@pytest.mark.parametrize('num_tokens,rho', CASES)
def test_rows_of_p_are_orthogonal_and_hash_is_balanced(num_tokens, rho):
    sketch = CountSketch.draw(4, num_tokens, rho)
    p = sketch.sketch_matrix()
    gram = p @ p.transpose(1, 2)
    torch.testing.assert_close(gram, torch.diag_embed(sketch.bucket_sizes))
    k_prime = sketch.sketch_size
    sizes = sketch.bucket_sizes
    assert sizes.sum(-1).tolist() == [float(num_tokens)] * 4
    assert sizes.min() >= num_tokens // k_prime
    assert sizes.max() <= math.ceil(num_tokens / k_prime)
    assert ((sketch.signs == -1).sum(-1) == num_tokens // 2).all()
    assert set(sketch.signs.unique().tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize('num_tokens,rho', CASES)
def test_authors_layout_gives_each_bucket_one_token_per_raster_block(
        num_tokens, rho):
    """The default layout is the authors': token i takes entry i of the
    concatenated bucket permutations, so every block of K' consecutive
    tokens holds K' distinct buckets (a bucket's tokens are spread over the
    image, one per block); 'shuffled' mixes entries over all positions."""
    sketch = CountSketch.draw(6, num_tokens, rho)
    k_prime = sketch.sketch_size
    for start in range(0, num_tokens, k_prime):
        block = sketch.hashes[:, start:start + k_prime]
        for row in block:
            assert len(row.unique()) == len(row)  # one token per bucket
    if k_prime > 1:  # drawn anew per image
        assert not torch.equal(sketch.hashes[0], sketch.hashes[1])


def test_shuffled_layout_lets_neighbours_share_a_bucket():
    blocks = CountSketch.draw(64, 196, 1 / 7,
                              generator=torch.Generator().manual_seed(0))
    shuffled = CountSketch.draw(64, 196, 1 / 7, hash_layout='shuffled',
                                generator=torch.Generator().manual_seed(0))

    def neighbours_sharing(sketch):  # horizontal neighbours, 14 x 14 grid
        grid = sketch.hashes.view(-1, 14, 14)
        return (grid[..., 1:] == grid[..., :-1]).sum().item()

    assert neighbours_sharing(blocks) == 0  # 14 < K' = 28: within a block
    assert neighbours_sharing(shuffled) > 0
    sizes = shuffled.bucket_sizes  # still balanced
    assert sizes.min() >= 7 and sizes.max() <= 7
    with raises_naming(ValueError, 'hash_layout', "('blocks', 'shuffled')",
                       "'raster'"):
        CountSketch.draw(1, 196, 1 / 7, hash_layout='raster')


def reference_sketch_matrix(sketch):
    """P built entry by entry from the drawn hashes and signs, in float64:
    P[b, h(i), i] = s(i) (independent of the module's scatter code)."""
    p = torch.zeros(sketch.batch_size, sketch.sketch_size, sketch.num_tokens,
                    dtype=torch.float64)
    for b in range(sketch.batch_size):
        for i in range(sketch.num_tokens):
            p[b, sketch.hashes[b, i], i] = float(sketch.signs[b, i])
    return p


@pytest.mark.parametrize('num_tokens,rho', CASES)
def test_projection_is_onto_the_row_space_of_p_and_complement_onto_its_null(
        num_tokens, rho):
    """Pi x lies in the row space of P and (I - Pi) x in its null space:
    the two conditions fix the orthogonal decomposition of x. The
    reference projector comes from torch.linalg.pinv of an entry-by-entry
    P, not from the module's own pseudo-inverse."""
    sketch = CountSketch.draw(2, num_tokens, rho)
    p = reference_sketch_matrix(sketch)
    x = torch.randn(2, num_tokens, 5, dtype=torch.float64)
    projected, removed = sketch.project(x), sketch.complement(x)
    reference = torch.linalg.pinv(p) @ p
    torch.testing.assert_close(projected, reference @ x)
    torch.testing.assert_close(removed, x - reference @ x)
    # P removes nothing of Pi x and keeps nothing of (I - Pi) x
    torch.testing.assert_close(p @ removed, torch.zeros_like(p @ x))
    torch.testing.assert_close(p @ projected, p @ x)


@pytest.mark.parametrize('num_tokens,rho', CASES)
def test_fast_path_equals_dense_matrix(num_tokens, rho):
    sketch = CountSketch.draw(3, num_tokens, rho)
    pi = sketch.matrix().double()
    x = torch.randn(3, num_tokens, 7, dtype=torch.float64)
    torch.testing.assert_close(sketch.project(x), pi @ x)
    torch.testing.assert_close(sketch.complement(x),
                               (eye(num_tokens) - pi) @ x)
    torch.testing.assert_close(
        sketch.sketch(x), sketch.sketch_matrix().double() @ x)


def test_pseudo_inverse_recovers_sketched_tokens():
    # P P^+ = I on the K'-dimensional sketch space
    sketch = CountSketch.draw(2, 50, 0.3)
    y = torch.randn(2, sketch.sketch_size, 4, dtype=torch.float64)
    torch.testing.assert_close(sketch.sketch(sketch.unsketch(y)), y)


def test_each_image_and_each_draw_gets_its_own_sketch():
    sketch = CountSketch.draw(8, 196, 1 / 7)
    pis = sketch.matrix()
    for i in range(8):
        for j in range(i + 1, 8):
            assert not torch.equal(pis[i], pis[j])
    again = CountSketch.draw(8, 196, 1 / 7)
    assert not torch.equal(again.hashes, sketch.hashes)


def test_generator_makes_draws_reproducible():
    first = CountSketch.draw(
        2, 64, 1 / 7, generator=torch.Generator().manual_seed(3))
    second = CountSketch.draw(
        2, 64, 1 / 7, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first.hashes, second.hashes)
    assert torch.equal(first.signs, second.signs)


def test_gradients_are_those_of_the_linear_maps():
    sketch = CountSketch.draw(2, 12, 0.25)
    x = torch.randn(2, 12, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sketch.project, (x, ))
    assert torch.autograd.gradcheck(sketch.complement, (x, ))


def test_half_precision_input_is_summed_in_float32():
    """bf16 tokens come back in bf16, with the buckets summed in float32:
    bit-equal to the float32 computation on the same bf16 values, rounded
    once at the end (bucket sums kept in bf16 round after every add)."""
    sketch = CountSketch.draw(2, 196, 1 / 7)
    x = torch.randn(2, 196, 16).bfloat16()
    for apply in (sketch.project, sketch.complement):
        out = apply(x)
        assert out.dtype == torch.bfloat16
        assert torch.equal(out, apply(x.float()).bfloat16())


@pytest.mark.parametrize('rho', [0.0, 1.0, -0.2, 1.5])
def test_rho_outside_open_unit_interval_is_rejected(rho):
    with raises_naming(ValueError, 'rho', '(0, 1)', str(rho)):
        CountSketch.draw(1, 196, rho)


def test_sketch_size_below_one_is_rejected():
    # the sketch size it gives and the smallest rho that works
    with raises_naming(ValueError, 'rho=0.005', "K'=round(rho*K)=0",
                       'rho >= 0.007812'):
        sketch_size_from_ratio(64, 0.005)


def test_sketch_size_not_below_k_is_rejected():
    with raises_naming(ValueError, 'rho=0.97', "K'=10", 'K=10', 'rho <= 0.95'):
        sketch_size_from_ratio(10, 0.97)


def test_tokens_of_wrong_shape_are_rejected():
    sketch = CountSketch.draw(2, 64, 1 / 7)
    with raises_naming(ValueError, '(2, 64, C)', '(2, 65, 3)'):
        sketch.project(torch.randn(2, 65, 3))
