"""Time, memory and batches of a step (mmropim.evaluation.step_cost)."""
import numpy as np
import pytest
import torch

from mmropim.evaluation import (interleaved_median_ms, median_ms,
                                peak_memory_above_resident_mb,
                                pipeline_batches, saved_activation_bytes,
                                timed_ms)

CPU = torch.device('cpu')


def test_steps_are_timed_round_robin_after_one_warm_up_each():
    calls = []
    steps = [lambda: calls.append('a'), lambda: calls.append('b')]
    times = interleaved_median_ms(steps, 3, CPU)
    assert calls == ['a', 'b'] * 4
    assert len(times) == 2 and all(t >= 0 for t in times)
    calls.clear()
    assert median_ms(lambda: calls.append('c'), 4, CPU) >= 0
    assert calls == ['c'] * 5


def test_timed_ms_measures_the_call():
    import time
    assert 40 <= timed_ms(lambda: time.sleep(0.05), CPU) < 5000


def test_peak_memory_is_a_cuda_figure_and_the_step_not_run_elsewhere():
    calls = []
    assert peak_memory_above_resident_mb(lambda: calls.append(1), CPU) is None
    assert calls == []


def test_saved_activations_exclude_parameters_and_count_storages_once():
    linear = torch.nn.Linear(4, 4, bias=False)
    x = torch.randn(8, 4, requires_grad=True)
    # the matmul keeps the input and (for the input's gradient) a view of
    # the weight, a parameter; pow keeps its input, the (8, 4) output: 2 x
    # 8 x 4 floats
    assert saved_activation_bytes(
        linear, lambda: linear(x).pow(2).sum()) == 2 * 8 * 4 * 4
    # x * x keeps x twice: one storage
    y = torch.randn(8, 4, requires_grad=True)
    assert saved_activation_bytes(linear, lambda: (y * y).sum()) == 8 * 4 * 4


def test_pipeline_batches_run_the_config_pipeline_after_loading():
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=16),
        dict(type='PackInputs'),
    ]
    rng = np.random.default_rng(0)
    pool = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            for _ in range(5)]
    batches = pipeline_batches(pipeline, pool, batch_size=3, num_batches=2)
    assert len(batches) == 2
    for batch in batches:  # collated: one (B, 3, H, W) tensor
        assert tuple(batch['inputs'].shape) == (3, 3, 16, 16)
        assert len(batch['data_samples']) == 3
    # distinct samples
    assert not torch.equal(batches[0]['inputs'], batches[1]['inputs'])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_peak_memory_counts_what_the_step_allocates():
    device = torch.device('cuda')
    resident = torch.zeros(2**20, device=device)  # noqa: F841 (4 MiB)

    def step():
        torch.ones(2**20, device=device).sum()  # 4 MiB while it runs

    peak = peak_memory_above_resident_mb(step, device)
    assert 4.0 <= peak < 4.5
