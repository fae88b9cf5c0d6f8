from typing import Iterator

from mmpretrain.registry import MODELS

from ...utils import config_type_name
from .prmim import PipelineMaskSelfSupervisor
from .ropim import ROPIM

#: transforms that draw a mask in the data pipeline
MASK_TRANSFORMS = ('FurthestSampling', 'BEiTMaskGenerator',
                   'SimMIMMaskGenerator')


def _transform_types(transforms) -> Iterator[str]:
    """Type names of transform configs and of those they nest
    (``RandomApply``, ``MultiView`` ...)."""
    for transform in transforms:
        if isinstance(transform, (list, tuple)):  # MultiView's per view
            yield from _transform_types(transform)
            continue
        if not isinstance(transform, dict):
            continue
        yield config_type_name(transform)
        yield from _transform_types(transform.get('transforms') or [])


def _pipeline_types(dataset_cfg) -> Iterator[str]:
    """Transform type names of a dataset config and of its wrapped ones."""
    if not isinstance(dataset_cfg, dict):
        return
    yield from _transform_types(dataset_cfg.get('pipeline') or [])
    inner = dataset_cfg.get('datasets') or []
    for child in [dataset_cfg.get('dataset'), *inner]:
        yield from _pipeline_types(child)


def check_pipeline_mask_config(cfg) -> None:
    """Refuse a training config whose pipeline draws a mask that the model
    would ignore, or whose model needs PR-MIM's masks from a pipeline that
    does not draw them.

    ``tools/train.py`` calls it before building the runner. The rules:

    - ``ROPIM`` takes no mask (its count sketches come from
      ``SketchDataPreprocessor``): no ``BEiTMaskGenerator``,
      ``SimMIMMaskGenerator`` or ``FurthestSampling``.
    - ``FurthestSampling`` needs ``PRMIM`` / ``PRMIMSimMIM``; other models
      draw their own mask.
    - ``PRMIM`` / ``PRMIMSimMIM`` need ``FurthestSampling``.

    Args:
        cfg (Config): The full config, with ``model`` and
            ``train_dataloader``.

    Raises:
        ValueError: Naming the model type and the transform to add or
            remove.
    """
    model_type = cfg.get('model', {}).get('type')
    dataloader = cfg.get('train_dataloader') or {}
    if not isinstance(model_type, str) or not dataloader:
        return
    model_cls = MODELS.get(model_type)
    model_cls = model_cls if isinstance(model_cls, type) else object
    types = set(_pipeline_types(dataloader.get('dataset')))
    if issubclass(model_cls, ROPIM):
        masks = [name for name in MASK_TRANSFORMS if name in types]
        if masks:
            raise ValueError(
                f'the training pipeline has {", ".join(masks)} but the model '
                f'is {model_type!r}, which projects the tokens with the '
                'count sketches SketchDataPreprocessor draws and would '
                f'ignore a mask: remove {", ".join(masks)} from the pipeline')
        return
    takes_masks = issubclass(model_cls, PipelineMaskSelfSupervisor)
    samples = 'FurthestSampling' in types
    if samples and not takes_masks:
        raise ValueError(
            f'the training pipeline has FurthestSampling but the model is '
            f'{model_type!r}, which draws its own mask and would ignore the '
            "pipeline's: use type='PRMIM' (PRMIMViT, PRMIMDecoder, "
            "PRMIMHead) or 'PRMIMSimMIM', or remove FurthestSampling")
    if takes_masks and not samples:
        raise ValueError(
            f'the model is {model_type!r}, which takes its mask from the data '
            "pipeline, but the training pipeline has no FurthestSampling: add "
            "dict(type='FurthestSampling', ...) after the crop and "
            "dict(type='PackInputs', algorithm_keys=['throw_mask'])")
