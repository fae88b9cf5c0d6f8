import io
from typing import Optional, Tuple, Union

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


#: Pillow modes of more than 8 bits per sample
HIGH_BIT_MODES = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F')
#: channels an image can be read with: gray, color, color + alpha
CHANNELS = (1, 3, 4)


def check_channels(channels: int) -> None:
    """Raise unless ``channels`` is one of :data:`CHANNELS`."""
    if channels not in CHANNELS:
        raise ValueError(f'channels must be one of {CHANNELS} (gray, color, '
                         f'color + alpha), got {channels!r}')


def check_high_bit_range(high_bit_range: Union[str, int]) -> None:
    """Raise unless ``high_bit_range`` is 'full', 'image' or a bit count in
    1..32 (see :func:`to_8bit_array`)."""
    valid = high_bit_range in ('full', 'image') or (
        isinstance(high_bit_range, int)
        and not isinstance(high_bit_range, bool)
        and 1 <= high_bit_range <= 32)
    if not valid:
        raise ValueError(
            f'high_bit_range must be \'full\', \'image\' or the bits the '
            f'values use (an int in 1..32, e.g. 12), got {high_bit_range!r}')


def _high_bit_to_8bit(image: Image.Image,
                      high_bit_range: Union[str, int]) -> Image.Image:
    """An 8-bit grayscale image of a 16-bit, 32-bit or float one, its values
    scaled (not clipped) to 0..255."""
    array = np.asarray(image).astype(np.float64)
    if high_bit_range == 'image' or (high_bit_range == 'full'
                                     and not image.mode.startswith('I;16')):
        low, high = float(array.min()), float(array.max())
    elif high_bit_range == 'full':
        low, high = 0.0, 65535.0
    else:
        low, high = 0.0, float(2**high_bit_range - 1)
    scaled = (array - low) / max(high - low, 1e-12) * 255.0
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def to_8bit_array(image: Image.Image,
                  channels: int = 3,
                  high_bit_range: Union[str, int] = 'full') -> np.ndarray:
    """An (H, W, channels) uint8 array of any Pillow image.

    ``channels`` 3 gives RGB: grayscale replicated, alpha dropped. 1 gives
    grayscale (color by Pillow's ITU-R 601-2 luma). 4 gives RGBA (an
    image without alpha is opaque). Palette images are expanded first.
    Images of more than 8 bits per sample are grayscale; their values are
    scaled to 0..255 from

    - ``'full'``: 0..65535 for 16-bit, the image's own min..max for 32-bit
      integer and float images;
    - ``'image'``: every image's own min..max (contrast stretched);
    - an int N: 0..2**N - 1, e.g. 12 for 12-bit sensor data stored as
      16-bit, which ``'full'`` would leave dark.

    Args:
        image (PIL.Image.Image): A decoded image of any mode.
        channels (int): 1, 3 or 4. Defaults to 3.
        high_bit_range (str | int): See above. Defaults to 'full'.

    Returns:
        np.ndarray: (H, W, channels) uint8, gray / RGB / RGBA order.
    """
    check_channels(channels)
    check_high_bit_range(high_bit_range)
    if image.mode in HIGH_BIT_MODES:
        image = _high_bit_to_8bit(image, high_bit_range)
    if image.mode == 'P':
        image = image.convert('RGBA')
    array = np.asarray(image.convert({1: 'L', 3: 'RGB', 4: 'RGBA'}[channels]))
    return array[..., None] if array.ndim == 2 else array


def to_8bit_rgb(image: Image.Image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array of any Pillow image:
    :func:`to_8bit_array` with 3 channels and the full 16-bit range."""
    return to_8bit_array(image, 3)


@TRANSFORMS.register_module()
class LoadImageWithPillow(BaseTransform):
    """Load an image of any format and mode Pillow reads as an 8-bit image
    of 1, 3 or 4 channels, for pre-training on folders of mixed images.

    MMCV's ``LoadImageFromFile`` decodes with OpenCV, which reads fewer
    formats (no GIF, no 16-bit grayscale TIFF as Pillow's modes), and its
    Pillow path clips 16-bit images to white. With 3 channels this
    transform gives what ``LoadImageFromFile`` gives for an ordinary color
    photo: (H, W, 3) uint8 in BGR order (the data preprocessors'
    ``to_rgb=True`` expects it). With 1 channel it gives (H, W) grayscale,
    as ``LoadImageFromFile(color_type='grayscale')`` does; with 4, (H, W, 4)
    in RGBA order (the preprocessor takes it as it is: ``to_rgb=False``).
    Images are turned upright by their EXIF orientation, and ``img_shape``
    and ``ori_shape`` are set; see :func:`to_8bit_array` for the
    conversions.

    Args:
        channels (int): 1, 3 or 4: the backbone's ``in_channels``.
            Defaults to 3.
        high_bit_range (str | int): How 16-bit / 32-bit / float images map
            to 0..255: 'full', 'image' or the bits their values use (e.g.
            12), see :func:`to_8bit_array`. Defaults to 'full'.
        to_float32 (bool): Return float32 instead of uint8.
            Defaults to False.
        backend_args (dict, optional): File backend of
            ``mmengine.fileio.get``. Defaults to None (local files).
    """

    def __init__(self,
                 channels: int = 3,
                 high_bit_range: Union[str, int] = 'full',
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.channels = channels
        self.high_bit_range = high_bit_range
        self.to_float32 = to_float32
        self.backend_args = backend_args
        check_channels(channels)
        check_high_bit_range(high_bit_range)

    def transform(self, results: dict) -> dict:
        """Read ``results['img_path']`` into ``results['img']``.

        Raises:
            OSError: Naming the file when Pillow cannot decode it.
        """
        path = results['img_path']
        try:
            with Image.open(io.BytesIO(get(path, self.backend_args))) as im:
                # turned upright as LoadImageFromFile turns photos
                array = to_8bit_array(
                    ImageOps.exif_transpose(im), self.channels,
                    self.high_bit_range)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise OSError(f'cannot decode {path} as an image: {error}') \
                from error
        if self.channels == 3:
            img = np.ascontiguousarray(array[..., ::-1])  # BGR, as OpenCV
        elif self.channels == 1:
            img = array[..., 0]  # (H, W), as OpenCV's grayscale
        else:
            img = array
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
