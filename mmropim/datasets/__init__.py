from .class_folders import (ClassFolderMismatchError, check_class_folders,
                            check_class_folders_fit_model, check_data_roots)
from .image_checks import (NoImageLoaderError, UnreadableImagesError,
                           check_run_images)
from .image_statistics import image_files, mean_std
from .transforms import (FurthestSampling, LoadImageWithPillow,
                         pillow_extensions, to_8bit_array, to_8bit_rgb)
from .worker_seeding import worker_init_per_epoch

__all__ = [
    'ClassFolderMismatchError', 'check_class_folders',
    'check_class_folders_fit_model', 'check_data_roots',
    'NoImageLoaderError',
    'UnreadableImagesError', 'check_run_images', 'image_files',
    'mean_std', 'FurthestSampling',
    'LoadImageWithPillow', 'pillow_extensions', 'to_8bit_array',
    'to_8bit_rgb', 'worker_init_per_epoch'
]
