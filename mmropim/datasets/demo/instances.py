"""A small real instance-segmentation set in COCO's on-disk format.

Same source as :mod:`.segmentation`: the nuclei image and its
human-annotated instance labels shipped in the stardist wheel. Every nucleus
of a crop (at least ``min_area`` pixels inside it) becomes one COCO
annotation with an RLE mask and its bounding box; class ``nucleus``::

    <out>/train/nuclei_0000.png, <out>/val/nuclei_0000.png
    <out>/annotations/instances_train.json, instances_val.json
"""
import json
import os
import os.path as osp
from typing import Dict

import numpy as np
from PIL import Image

from .segmentation import nuclei_crops


def instance_annotations(labels: np.ndarray, image_id: int,
                         first_id: int, min_area: int) -> list:
    """COCO annotations (RLE masks) of every instance of a label crop.

    Args:
        labels (np.ndarray): (H, W) instance ids, 0 = background.
        image_id (int): COCO image id.
        first_id (int): Id of the first annotation.
        min_area (int): Instances with fewer pixels are skipped.

    Returns:
        list[dict]: The annotations.
    """
    from pycocotools import mask as mask_utils
    annotations = []
    for instance in np.unique(labels):
        if instance == 0:
            continue
        mask = np.asfortranarray((labels == instance).astype(np.uint8))
        area = int(mask.sum())
        if area < min_area:
            continue
        rle = mask_utils.encode(mask)
        x, y, w, h = mask_utils.toBbox(rle).tolist()
        rle['counts'] = rle['counts'].decode('ascii')
        annotations.append(
            dict(id=first_id + len(annotations), image_id=image_id,
                 category_id=1, segmentation=rle, area=area,
                 bbox=[x, y, w, h], iscrowd=0))
    return annotations


def write_coco_style(out_dir: str,
                     min_area: int = 16,
                     **crop_args) -> Dict[str, int]:
    """Write image crops and COCO instance annotations.

    Args:
        out_dir (str): Root folder.
        min_area (int): Smallest instance area kept, in pixels.
        **crop_args: Arguments of :func:`.segmentation.nuclei_crops`.

    Returns:
        dict[str, int]: Number of annotations per split.
    """
    counts = {}
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    for split, pairs in nuclei_crops(**crop_args).items():
        name = 'train' if split == 'training' else 'val'
        os.makedirs(osp.join(out_dir, name), exist_ok=True)
        images, annotations = [], []
        for i, (image, labels) in enumerate(pairs):
            filename = f'nuclei_{i:04d}.png'
            Image.fromarray(image).save(osp.join(out_dir, name, filename))
            images.append(
                dict(id=i + 1, file_name=filename, height=image.shape[0],
                     width=image.shape[1]))
            annotations += instance_annotations(labels, i + 1,
                                                len(annotations) + 1,
                                                min_area)
        with open(osp.join(out_dir, 'annotations',
                           f'instances_{name}.json'), 'w') as f:
            json.dump(
                dict(images=images, annotations=annotations,
                     categories=[dict(id=1, name='nucleus')]), f)
        counts[name] = len(annotations)
    return counts
