# Runtime shared by every mmropim config.
default_scope = 'mmpretrain'
# our components, and (also under MMPretrain's own tools/train.py) the
# loader that reads every checkpoint with torch.load(weights_only=True)
custom_imports = dict(
    imports=['mmropim', 'mmropim.utils.use_safe_checkpoint_loader'],
    allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # loads with torch.load(weights_only=True); written to a temporary file
    # and renamed into place; old ones deleted only after
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)

# stop with an error naming the iteration if the loss becomes NaN / inf, or
# is exactly 0 (a dead loss) for 20 iterations in a row
custom_hooks = [
    dict(type='FiniteLossHook', interval=10, max_zero_loss_iters=20),
    # pictures of the current batch's reconstructions every `interval`
    # iterations into the visualizer's backends (work dir, TensorBoard,
    # W&B); switch on with tools/train.py --vis-interval N
    dict(type='MIMVisualizationHook', enable=False, interval=1000),
    # a file of a data folder that is no image (a .jpg holding text) stops
    # the run naming it and what the folder may hold
    dict(type='ImageReadErrorHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
