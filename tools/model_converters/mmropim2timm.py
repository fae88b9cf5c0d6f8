"""Convert a pre-training or fine-tuning checkpoint to a timm state dict.

The ViT of PR-MIM / MAE / MFF / SimMIM + PR-MIM and ROPIM's plain ViT become
timm's ``VisionTransformer``; ROPIM's BEiT-style ViT (and a fine-tuned
``BEiTViT``) becomes timm's ``Beit``. The output holds plain tensors only
(``torch.load(..., weights_only=True)``), or is a ``.safetensors`` file when
OUT ends so; it loads with ``strict=True`` into the model the tool prints,
e.g.::

    python tools/model_converters/mmropim2timm.py \\
        work_dirs/prmim/epoch_100.pth prmim_vit-base-p16_timm.safetensors \\
        [--overwrite]
    # -> timm.create_model('vit_base_patch16_224', num_classes=0)
    #    .load_state_dict(safetensors.torch.load_file(OUT), strict=True)

A pre-training checkpoint gives the encoder with its final norm (timm's
``global_pool='token'``, ``num_classes=0``); a fine-tuning checkpoint of an
``ImageClassifier`` with mean pooling gives ``fc_norm`` and ``head`` as well
(timm's ``global_pool='avg'``). Pre-training-only parts (decoders, heads, the
MAE mask token, MFF's fusion layers) are left out and listed.

OUT is written as ``tools/convert_checkpoint.py`` writes its output: an
existing file (or link) is replaced only with ``--overwrite``, the source
never; through a temporary file renamed into place, so an interruption
leaves the old file and a link at OUT becomes a new file (the file it named
keeps its content).
"""
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmropim.models.utils.timm_keys import convert_checkpoint, timm_constructor
from mmropim.utils import load_local_checkpoint, trust_checkpoint_files
from mmropim.utils.argument_types import (checkpoint_converter_parser,
                                          parse_converter_args)
from mmropim.utils.tensor_files import save_tensor_file


def parse_args(argv=None):
    return parse_converter_args(
        checkpoint_converter_parser(
            __doc__, 'pre-training or fine-tuning checkpoint (or a backbone '
            'file of tools/convert_checkpoint.py)',
            'output (.safetensors for safetensors)'), argv)


def main(argv=None):
    args = parse_args(argv)
    trust_checkpoint_files(args.trust_checkpoint)
    checkpoint = load_local_checkpoint(args.src, map_location='cpu')
    state, left_out, family = convert_checkpoint(checkpoint)
    constructor = timm_constructor(state, family)  # raises before writing
    save_tensor_file(state, args.dst)  # whole or not at all
    print(f'wrote {len(state)} tensors to {args.dst}')
    if left_out:
        print(f'left out {len(left_out)} (pre-training parts, heads other '
              'than a linear classifier, buffers timm rebuilds): '
              f'{", ".join(sorted(left_out))}')
    print(f'load with strict=True into: {constructor}')


if __name__ == '__main__':
    main()
