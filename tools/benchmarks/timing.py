"""Wall-clock timing for the benchmark scripts."""
import sys

if __name__ == '__main__':
    sys.exit('tools/benchmarks/timing.py is imported by the benchmark scripts '
             'and runs nothing itself; run one of them, e.g. python '
             'tools/benchmarks/prmim_cost.py --help')

import statistics
import time

import torch


def timed_ms(fn, device: torch.device) -> float:
    """Wall time of one call of ``fn`` in ms (CUDA work included)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return 1000 * (time.perf_counter() - start)


def median_ms(fn, repeats: int, device: torch.device) -> float:
    """Median of ``repeats`` timed calls, after one warm-up call."""
    fn()
    return statistics.median(timed_ms(fn, device) for _ in range(repeats))


def interleaved_median_ms(steps, repeats: int, device: torch.device) -> list:
    """Median wall time in ms of each step, timed round-robin (one of each
    per round) so that drifts of a shared machine hit all steps alike. For
    steps of similar cost; time millisecond-scale work with
    :func:`median_ms`."""
    for fn in steps:  # warm-up
        fn()
    times = [[] for _ in steps]
    for _ in range(repeats):
        for fn, record in zip(steps, times):
            record.append(timed_ms(fn, device))
    return [statistics.median(record) for record in times]
