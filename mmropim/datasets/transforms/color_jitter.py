from typing import Dict

import cv2
import mmcv
import numpy as np
from mmpretrain.datasets.transforms import ColorJitter
from mmpretrain.registry import TRANSFORMS
from PIL import Image


def shift_hue(img: np.ndarray, hue: float, backend: str = 'cv2') -> np.ndarray:
    """``mmcv.adjust_hue`` for any ``hue`` in [-0.5, 0.5]: the hue channel
    (uint8, a full turn in 256 steps) shifted by ``int(hue * 255)`` steps,
    wrapping around. MMCV's own adds ``np.uint8(hue * 255)``, which NumPy 2
    refuses for a negative hue (``OverflowError``); NumPy 1 wrapped it to
    the same shift.

    Args:
        img (np.ndarray): (H, W, 3) BGR uint8 image.
        hue (float): The shift, as a fraction of a turn.
        backend (str): 'cv2' or 'pillow', as ``mmcv.adjust_hue``.
    """
    if not -0.5 <= hue <= 0.5:
        raise ValueError(f'hue must be in [-0.5, 0.5], got {hue}')
    step = np.uint8(int(hue * 255) % 256)
    if backend == 'pillow':
        h, s, v = Image.fromarray(img[..., ::-1].astype(np.uint8),
                                  mode='RGB').convert('HSV').split()
        h = Image.fromarray(np.asarray(h, dtype=np.uint8) + step, 'L')
        rgb = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.asarray(rgb, dtype=img.dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += step  # uint8: wraps around
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


@TRANSFORMS.register_module()
class HueSafeColorJitter(ColorJitter):
    """MMPretrain's ``ColorJitter`` (the same arguments, draws and order:
    brightness, contrast, saturation and hue factors, applied in a random
    order) whose hue step runs under NumPy 2 too (see :func:`shift_hue`).
    """

    def transform(self, results: Dict) -> Dict:
        img = results['img']
        order = np.random.permutation(4)
        factors = [
            None if bounds is None else np.random.uniform(
                bounds[0], bounds[1])
            for bounds in (self.brightness, self.contrast, self.saturation,
                           self.hue)
        ]
        for index in order:
            factor = factors[index]
            if factor is None:
                continue
            if index == 0:
                img = mmcv.adjust_brightness(img, factor, backend=self.backend)
            elif index == 1:
                img = mmcv.adjust_contrast(img, factor, backend=self.backend)
            elif index == 2:
                img = mmcv.adjust_color(
                    img, alpha=factor, backend=self.backend)
            else:
                img = shift_hue(img, factor, backend=self.backend)
        results['img'] = img
        return results
