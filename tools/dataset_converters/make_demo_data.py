"""Write the demo image set from real photos shipped by scikit-image and
scikit-learn (nothing is downloaded).

    python tools/dataset_converters/make_demo_data.py [--out data/demo]
"""
import argparse
import json
import time

from mmropim.datasets import write_imagenet_style


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/demo/imagenet',
                        help='output folder (ImageNet-style tree)')
    parser.add_argument('--size', type=int, default=64, help='image side')
    parser.add_argument('--train-per-class', type=int, default=32)
    parser.add_argument('--val-per-class', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    start = time.time()
    counts = write_imagenet_style(args.out, args.size, args.train_per_class,
                                  args.val_per_class, args.seed)
    print(f'wrote {json.dumps(counts)} images of {args.size}x{args.size} px '
          f'to {args.out} in {time.time() - start:.1f}s')


if __name__ == '__main__':
    main()
