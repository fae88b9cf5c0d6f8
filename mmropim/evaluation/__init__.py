"""Measurements of pre-trained models and of their cost, for the benchmark
scripts: frozen-feature read-outs (k-NN, linear probe), means over seeds
with verdicts beyond two standard errors, held-out losses against
no-learning baselines, FLOPs, time and memory of a step, and tasks run side
by side. Plain functions; nothing is registered."""
from .flops import count_flops
from .frozen_readouts import (READOUTS, knn_accuracy, linear_probe_accuracy,
                              token_readouts)
from .reconstruction_losses import (corrupted_loss, held_out_losses,
                                    random_masks, ropim_losses, simmim_losses)
from .seed_statistics import compare_means, mean_std_text, seed_means
from .side_by_side import (StoppableProcesses, job_environment,
                           run_side_by_side, seeded)
from .step_cost import (interleaved_median_ms, median_ms,
                        peak_memory_above_resident_mb, pipeline_batches,
                        saved_activation_bytes, synchronize, timed_ms)

__all__ = [
    'READOUTS', 'StoppableProcesses', 'compare_means', 'corrupted_loss',
    'count_flops', 'held_out_losses', 'interleaved_median_ms',
    'job_environment', 'knn_accuracy', 'linear_probe_accuracy', 'median_ms',
    'mean_std_text', 'peak_memory_above_resident_mb', 'pipeline_batches',
    'random_masks', 'ropim_losses', 'run_side_by_side',
    'saved_activation_bytes', 'seed_means', 'seeded', 'simmim_losses',
    'synchronize', 'timed_ms', 'token_readouts'
]
