"""Arguments and types of the other parts the runner builds: the model
parts, schedulers, log processor, visualizer, metrics and data loaders."""
import inspect
from typing import Iterator, List, Mapping, Tuple

from ..dataset_configs import dataset_configs
from .base import (ConfigKeyError, ConfigValueError, _registered_class,
                   _registered_names, check_arguments, did_you_mean,
                   refuse_unknown_arguments)
from .hooks import hook_configs
from .optim import check_optim_wrapper_arguments

# the parts of ``model`` that its class builds from their own configs
MODEL_PARTS = ('backbone', 'neck', 'head', 'data_preprocessor')


def check_model_keys(cfg: Mapping) -> None:
    """Refuse keys of ``model`` and of its ``backbone``, ``neck``, ``head``
    and ``data_preprocessor`` that the class their ``type`` names does not
    take, e.g. MAEViT's ``mask_ratio`` left in a stock config whose
    backbone type became another (a child config's dict merges into its
    base's, so a new ``type`` keeps the old keys).

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: Naming the key, the class, the close accepted
            ones and the ``_delete_=True`` fix.
    """
    from mmengine.registry import MODELS
    model = cfg.get('model')
    if not isinstance(model, Mapping):
        return
    scope = cfg.get('default_scope', 'mmpretrain')
    parts = [('model', model)] + [
        (f'model.{name}', model[name]) for name in MODEL_PARTS
        if isinstance(model.get(name), Mapping)]
    for where, part in parts:
        cls = _registered_class(MODELS, part.get('type'),
                                part.get('_scope_', scope))
        if not inspect.isclass(cls):  # none, or a builder function
            continue
        try:
            check_arguments(cls, [key for key in part
                                  if key not in MODEL_PARTS], where)
        except ConfigKeyError as error:
            raise ConfigKeyError(
                f'{error} (a key of a _base_ config stays when only the '
                f'type changes: set {where}._delete_=True and give all its '
                'keys)') from None


def _scheduler_configs(node, where: str) -> list:
    """``(where, config)`` of each scheduler of ``param_scheduler``: one
    dict, a list of them, or a dict of those per optimizer."""
    if isinstance(node, Mapping):
        if 'type' in node:
            return [(where, node)]
        found = []
        for name, value in node.items():
            if isinstance(value, (Mapping, list, tuple)):
                found += _scheduler_configs(value, f'{where}.{name}')
        return found
    if isinstance(node, (list, tuple)):
        return [(f'{where}.{i}', item) for i, item in enumerate(node)
                if isinstance(item, Mapping)]
    return []


def _metric_configs(evaluator, where: str) -> list:
    """``(where, config)`` of each metric of an evaluator config, as the
    runner builds it: a metric dict, a list of them, or a dict with
    ``metrics`` (one or a list)."""
    if isinstance(evaluator, Mapping):
        if 'metrics' not in evaluator:
            return [(where, evaluator)]
        return _metric_configs(evaluator['metrics'], f'{where}.metrics')
    if isinstance(evaluator, (list, tuple)):
        return [(f'{where}.{i}', metric)
                for i, metric in enumerate(evaluator)
                if isinstance(metric, Mapping)]
    return []


# what Runner.build_dataloader takes out of a data loader config before
# passing the rest to torch's DataLoader (MMEngine 0.10)
DATALOADER_KEYS_READ_BY_RUNNER = ('dataset', 'sampler', 'batch_sampler',
                                  'collate_fn', 'worker_init_fn',
                                  'num_batch_per_epoch',
                                  'disable_subprocess_warning')


def dataloader_keys() -> List[str]:
    """The keys of a data loader config that MMEngine's
    ``Runner.build_dataloader`` takes: its own and the arguments of torch's
    ``DataLoader`` it does not set itself."""
    from torch.utils.data import DataLoader
    arguments = set(inspect.signature(DataLoader.__init__).parameters)
    arguments -= {'self', 'dataset', 'sampler', 'batch_sampler',
                  'collate_fn', 'worker_init_fn'}
    return sorted(arguments | set(DATALOADER_KEYS_READ_BY_RUNNER))


def check_built_arguments(cfg: Mapping) -> None:
    """Refuse arguments of the other objects the runner builds that their
    classes would not take: ``optim_wrapper`` (see
    :func:`check_optim_wrapper_arguments`), each ``param_scheduler``,
    ``log_processor``, ``visualizer`` and its ``vis_backends``, the metrics
    (and ``Evaluator``) of ``val_evaluator`` and ``test_evaluator``, and the
    data loaders (torch's ``DataLoader``, less what the runner sets).
    Classes are looked up under the config's default scope; those whose
    ``**kwargs`` go elsewhere are skipped.

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: See :func:`refuse_unknown_arguments`.
    """
    from mmengine.evaluator import Evaluator
    from mmengine.registry import (DATASETS, EVALUATOR, LOG_PROCESSORS,
                                   METRICS, PARAM_SCHEDULERS, VISBACKENDS,
                                   VISUALIZERS)
    from mmengine.runner import LogProcessor
    from mmengine.visualization import Visualizer
    scope = cfg.get('default_scope', 'mmpretrain')

    def check(registry, config, where, set_by_builder=(), default=None):
        cls = _registered_class(registry, config.get('type', default),
                                config.get('_scope_', scope))
        if inspect.isclass(cls):
            check_arguments(cls, config, where, set_by_builder)
        return cls

    check_optim_wrapper_arguments(cfg)
    for where, scheduler in _scheduler_configs(
            cfg.get('param_scheduler'), 'param_scheduler'):
        cls = _registered_class(PARAM_SCHEDULERS, scheduler.get('type'),
                                scheduler.get('_scope_', scope))
        if not inspect.isclass(cls):
            continue
        # an LR / momentum scheduler's mixin passes param_name itself
        set_by_builder = ['optimizer', 'epoch_length']
        if any(base.__name__.endswith('SchedulerMixin')
               for base in inspect.getmro(cls)):
            set_by_builder.append('param_name')
        check_arguments(cls, scheduler, where, set_by_builder,
                        read_by_builder=('convert_to_iter_based', ))
    log_processor = cfg.get('log_processor')
    if isinstance(log_processor, Mapping):
        if 'type' in log_processor:
            check(LOG_PROCESSORS, log_processor, 'log_processor')
        else:
            check_arguments(LogProcessor, log_processor, 'log_processor')
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, Mapping) and 'type' in visualizer:
        cls = check(VISUALIZERS, visualizer, 'visualizer')
        backends = visualizer.get('vis_backends')
        if isinstance(backends, Mapping):  # Visualizer takes one too
            backends = [backends]
        if not (inspect.isclass(cls) and issubclass(cls, Visualizer)
                and isinstance(backends, (list, tuple))):
            backends = []
        for i, backend in enumerate(backends):
            if isinstance(backend, Mapping) and 'type' in backend:
                # Visualizer takes the name of a backend itself
                where = 'visualizer.vis_backends' + (
                    f'.{i}' if isinstance(visualizer['vis_backends'],
                                          (list, tuple)) else '')
                check(VISBACKENDS, {k: v for k, v in backend.items()
                                    if k != 'name'}, where)
    for section in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(section)
        if isinstance(evaluator, Mapping) and 'metrics' in evaluator:
            cls = check(EVALUATOR, evaluator, section, default='Evaluator')
            if not (inspect.isclass(cls) and issubclass(cls, Evaluator)):
                kind = evaluator.get('type')
                metric = _registered_class(METRICS, kind,
                                           evaluator.get('_scope_', scope))
                what = 'a metric' if metric is not None else \
                    'no registered evaluator'
                raise ConfigValueError(
                    f'{section} sets metrics and type {kind!r}, which is '
                    f'{what}: the runner builds a dict with metrics as an '
                    "evaluator (type 'Evaluator' unless given), and would "
                    f'stop with a KeyError; drop {section}.type, or give '
                    'the metric in metrics')
        for where, metric in _metric_configs(evaluator, section):
            if 'type' in metric:
                check(METRICS, metric, where)
    for where, dataset, registry_name in _typed_parts(cfg):
        if registry_name == 'DATASETS' and isinstance(dataset, Mapping) \
                and 'type' in dataset:
            check(DATASETS, dataset, where)
    accepted = dataloader_keys()
    for section in ('train_dataloader', 'val_dataloader',
                    'test_dataloader'):
        loader = cfg.get(section)
        if isinstance(loader, Mapping):
            refuse_unknown_arguments('DataLoader (through '
                                     'Runner.build_dataloader)', accepted,
                                     loader, section)


def _typed_parts(cfg: Mapping) -> Iterator[Tuple[str, Mapping, str]]:
    """``(where, config, registry name)`` of the parts of a run config
    that name a registered ``type``: hooks, parameter schedulers, the optim
    wrapper and its optimizer, the loops, the data loaders' samplers,
    datasets (wrapped ones too) and transforms, the metrics, the model and
    its parts, the visualizer and its backends."""
    for where, hook in hook_configs(cfg):
        yield where, hook, 'HOOKS'
    for where, scheduler in _scheduler_configs(cfg.get('param_scheduler'),
                                               'param_scheduler'):
        yield where, scheduler, 'PARAM_SCHEDULERS'
    optim_wrapper = cfg.get('optim_wrapper')
    if isinstance(optim_wrapper, Mapping) and 'optimizer' in optim_wrapper:
        yield 'optim_wrapper', optim_wrapper, 'OPTIM_WRAPPERS'
        yield ('optim_wrapper.optimizer', optim_wrapper['optimizer'],
               'OPTIMIZERS')
    for loop in ('train_cfg', 'val_cfg', 'test_cfg'):
        yield loop, cfg.get(loop), 'LOOPS'
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split)
        if not isinstance(loader, Mapping):
            continue
        for sampler in ('sampler', 'batch_sampler'):
            yield f'{split}.{sampler}', loader.get(sampler), 'DATA_SAMPLERS'
        for where, dataset in dataset_configs(loader.get('dataset'),
                                              f'{split}.dataset'):
            yield where, dataset, 'DATASETS'
            for i, transform in enumerate(dataset.get('pipeline') or []):
                yield f'{where}.pipeline.{i}', transform, 'TRANSFORMS'
    for section in ('val_evaluator', 'test_evaluator'):
        for where, metric in _metric_configs(cfg.get(section), section):
            yield where, metric, 'METRICS'
    model = cfg.get('model')
    if isinstance(model, Mapping):
        yield 'model', model, 'MODELS'
        for name in MODEL_PARTS:
            yield f'model.{name}', model.get(name), 'MODELS'
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, Mapping):
        yield 'visualizer', visualizer, 'VISUALIZERS'
        backends = visualizer.get('vis_backends')
        if isinstance(backends, (list, tuple)):
            for i, backend in enumerate(backends):
                yield f'visualizer.vis_backends.{i}', backend, 'VISBACKENDS'


def check_type_names(cfg: Mapping) -> None:
    """Refuse a ``type`` that no registry of the part has (a typo such as
    ``CosineAnnealingLr``), naming the close registered ones: the runner
    would stop with the registry's ``KeyError`` when it builds the part,
    after writing to the work dir. Types given as classes, with a scope
    (``mmdet.X``) or under an unknown scope are left to the runner.

    Args:
        cfg (Mapping): The run config.

    Raises:
        ConfigKeyError: Naming the key, the type and the close names.
    """
    import mmengine.registry as registries
    scope = cfg.get('default_scope', 'mmpretrain')
    for where, part, registry_name in _typed_parts(cfg):
        if not isinstance(part, Mapping):
            continue
        kind = part.get('type')
        if not isinstance(kind, str) or '.' in kind or ':' in kind:
            continue
        registry = getattr(registries, registry_name)
        part_scope = part.get('_scope_', scope)
        if _registered_class(registry, kind, part_scope) is not None:
            continue
        names = _registered_names(registry, part_scope)
        if not names:
            continue
        raise ConfigKeyError(
            f'{where}.type is {kind!r}, which nothing in the '
            f'{registry.name} registry of scope {part_scope!r} is (the run '
            'would stop with a KeyError when the runner builds it, after '
            f'writing to the work dir); {did_you_mean(kind, names)}'
            'register it, or import the module that does with '
            'custom_imports')
