import io
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageOps

# still-image formats Pillow decodes itself (Image.OPEN also lists formats
# it only identifies, or reads through outside tools: video, HDF5, EPS ...)
IMAGE_FORMATS = ('BMP', 'DIB', 'GIF', 'ICO', 'JPEG', 'JPEG2000', 'PCX',
                 'PNG', 'PPM', 'QOI', 'SGI', 'TGA', 'TIFF', 'WEBP')


def pillow_extensions() -> Tuple[str, ...]:
    """File extensions of the still-image formats Pillow decodes, sorted."""
    return tuple(
        sorted(ext for ext, fmt in Image.registered_extensions().items()
               if fmt in IMAGE_FORMATS))


def to_8bit_rgb(image: Image.Image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array of any Pillow image.

    Grayscale is replicated to three channels; alpha is dropped; palette
    images are expanded; 16-bit and 32-bit integer images are scaled from
    their value range (0..65535, or their own min..max for 32-bit) and
    float images from their own min..max to 0..255 (values, not clipping).

    Args:
        image (PIL.Image.Image): A decoded image of any mode.

    Returns:
        np.ndarray: (H, W, 3) uint8, RGB order.
    """
    if image.mode in ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F'):
        array = np.asarray(image).astype(np.float64)
        if image.mode.startswith('I;16'):
            low, high = 0.0, 65535.0
        else:
            low, high = float(array.min()), float(array.max())
        scaled = (array - low) / max(high - low, 1e-12) * 255.0
        gray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1)
    if image.mode == 'P':
        image = image.convert('RGBA')
    return np.asarray(image.convert('RGB'))


@TRANSFORMS.register_module()
class LoadImageWithPillow(BaseTransform):
    """Load an image of any format and mode Pillow reads as an 8-bit color
    image, for pre-training on folders of mixed images.

    MMCV's ``LoadImageFromFile`` decodes with OpenCV, which reads fewer
    formats (no GIF, no 16-bit grayscale TIFF as Pillow's modes), and its
    Pillow path clips 16-bit images to white. This transform gives what
    ``LoadImageFromFile`` gives for an ordinary color photo: (H, W, 3)
    uint8 in BGR order (the data preprocessors' ``to_rgb=True`` expects it),
    turned upright by its EXIF orientation,
    with ``img_shape`` and ``ori_shape``; see :func:`to_8bit_rgb` for the
    conversions.

    Args:
        to_float32 (bool): Return float32 instead of uint8.
            Defaults to False.
        backend_args (dict, optional): File backend of
            ``mmengine.fileio.get``. Defaults to None (local files).
    """

    def __init__(self,
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32 = to_float32
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Read ``results['img_path']`` into ``results['img']``.

        Raises:
            OSError: Naming the file when Pillow cannot decode it.
        """
        path = results['img_path']
        try:
            with Image.open(io.BytesIO(get(path, self.backend_args))) as im:
                # turned upright as LoadImageFromFile turns photos
                rgb = to_8bit_rgb(ImageOps.exif_transpose(im))
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise OSError(f'cannot decode {path} as an image: {error}') \
                from error
        img = np.ascontiguousarray(rgb[..., ::-1])  # BGR, as OpenCV
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
