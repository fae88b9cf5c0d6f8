"""Extract the backbone of a pre-training checkpoint into a plain tensor file.

The output holds only tensors (it loads with ``torch.load(...,
weights_only=True)``), keys without the ``backbone.`` prefix, and can be
shared. Our downstream backbones (``TransferViT``, ``TransferBEiTViT``) read
it as they read the full checkpoint; MMPretrain's ``VisionTransformer`` /
``BEiTViT`` read it with ``init_cfg=dict(type='Pretrained', checkpoint=OUT)``.

    python tools/convert_checkpoint.py work_dirs/ropim/epoch_300.pth \
        ropim_vit-base-p16_backbone.pth [--overwrite]

An existing output file (or a link, dangling or not) is replaced only with
``--overwrite``, and never when it is the source checkpoint (by path,
symbolic or hard link). The file is written to a temporary name and renamed
into place: an interrupted conversion leaves the old file, not a truncated
one, and a link at the output becomes a new file (the file it named keeps
its content). ``tools/model_converters/mmropim2timm.py`` writes the same
way.
"""
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.utils import (extract_backbone_weights, load_local_checkpoint,
                           trust_checkpoint_files)
from mmropim.utils.argument_types import (checkpoint_converter_parser,
                                          parse_converter_args)
from mmropim.utils.tensor_files import save_tensor_file


def parse_args(argv=None):
    parser = checkpoint_converter_parser(__doc__, 'pre-training checkpoint',
                                         'output file')
    parser.add_argument(
        '--prefix', default='backbone.', help='prefix of the backbone keys')
    return parse_converter_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    trust_checkpoint_files(args.trust_checkpoint)
    checkpoint = load_local_checkpoint(args.src, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    if not any(key.startswith(args.prefix) for key in state):
        raise KeyError(f'{args.src} has no "{args.prefix}*" keys; is it a '
                       f'pre-training checkpoint of this project?')
    weights = {
        key: value.detach().clone().contiguous()
        for key, value in extract_backbone_weights(checkpoint,
                                                   args.prefix).items()
    }
    # checked to load with weights_only=True, then a new file renamed over
    # dst: a link there is replaced, the file it named keeps its content
    save_tensor_file(
        dict(state_dict=weights, meta=dict(source=osp.abspath(args.src))),
        args.dst)
    print(f'wrote {len(weights)} backbone tensors '
          f'({sum(v.numel() for v in weights.values()) / 1e6:.1f} M values) '
          f'to {args.dst}')


if __name__ == '__main__':
    main()
