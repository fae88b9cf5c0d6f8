from .count_sketch import CountSketch, check_sketch_ratio, sketch_size_from_ratio

__all__ = ['CountSketch', 'check_sketch_ratio', 'sketch_size_from_ratio']
