from .sketch_data_preprocessor import SketchDataPreprocessor

__all__ = ['SketchDataPreprocessor']
