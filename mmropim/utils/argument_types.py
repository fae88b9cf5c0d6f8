"""Argument types of the command-line tools: a bad value stops the tool
before any work, with argparse's ``error: argument --NAME: ...`` line that
names the value and what is allowed."""
import argparse
import os.path as osp


def _integer_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected an integer, got {text!r}') from None
    if value < minimum:
        raise argparse.ArgumentTypeError(
            f'must be an integer >= {minimum}, got {text!r}')
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (counts of steps, epochs, repeats, images)."""
    return _integer_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An integer >= 0 (random seeds)."""
    return _integer_at_least(text, 0)


def high_bit_range(text: str):
    """'full', 'image' or a bit count in 1..32 (how ``LoadImageWithPillow``
    maps images of more than 8 bits to 0..255)."""
    if text in ('full', 'image'):
        return text
    try:
        bits = int(text)
    except ValueError:
        bits = None
    if bits is None or not 1 <= bits <= 32:
        raise argparse.ArgumentTypeError(
            f'expected "full", "image" or the bits the values use (an '
            f'integer in 1..32, e.g. 12), got {text!r}')
    return bits


def _refuse_folder(text: str, expected: str) -> None:
    if osp.isdir(text):
        raise argparse.ArgumentTypeError(
            f'{text!r} is a folder; expected {expected}')


def existing_file(text: str) -> str:
    """The path of a file that exists."""
    _refuse_folder(text, 'a file')
    if not osp.isfile(text):
        raise argparse.ArgumentTypeError(f'no such file: {text!r}')
    return text


def existing_dir(text: str) -> str:
    """The path of a folder that exists."""
    if not osp.isdir(text):
        raise argparse.ArgumentTypeError(
            f'no such folder: {text!r}' if not osp.exists(text) else
            f'{text!r} is a file; expected a folder')
    return text


def output_dir(text: str) -> str:
    """A folder to write into: it may not exist yet, but must not be a
    file."""
    if osp.exists(text) and not osp.isdir(text):
        raise argparse.ArgumentTypeError(
            f'{text!r} is a file; expected a folder to write into')
    return text


def output_file(text: str) -> str:
    """A file to write: not a folder, and its folder must exist."""
    _refuse_folder(text, 'a file name to write')
    folder = osp.dirname(osp.abspath(text))
    if not osp.isdir(folder):
        raise argparse.ArgumentTypeError(
            f'the folder of {text!r} does not exist ({folder})')
    return text


def torch_device(text: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``, where that device exists."""
    import torch
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(
            f'unknown device {text!r}; use cpu, cuda or cuda:N') from None
    if device.type not in ('cpu', 'cuda'):
        raise argparse.ArgumentTypeError(
            f'unsupported device {text!r}; use cpu, cuda or cuda:N')
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(
                f'{text!r} asked for, but PyTorch sees no CUDA device; use '
                'cpu')
        if device.index is not None and \
                device.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f'{text!r} asked for, but only {torch.cuda.device_count()} '
                'CUDA device(s) are visible')
    return text


def same_file(first: str, second: str) -> bool:
    """Whether two existing paths are one file: the same device and inode,
    so a hard link or a symbolic link to a file is that file."""
    try:
        return osp.samefile(first, second)
    except OSError:  # one does not exist (yet)
        return False


def add_trust_checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    """``--trust-checkpoint CKPT``, repeatable: the files (and only those)
    that may be unpickled fully (:mod:`mmropim.utils.checkpoint_compat`)."""
    from mmropim.utils.checkpoint_compat import TRUST_CHECKPOINT_HELP
    parser.add_argument(
        '--trust-checkpoint',
        action='append',
        default=[],
        type=existing_file,
        metavar='CKPT',
        help=TRUST_CHECKPOINT_HELP)


def checkpoint_converter_parser(doc: str, src_help: str,
                                dst_help: str) -> argparse.ArgumentParser:
    """The arguments of the checkpoint converters: an existing ``src``, a
    writable ``dst``, ``--overwrite`` and ``--trust-checkpoint``; parse
    them with :func:`parse_converter_args`."""
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument('src', type=existing_file, help=src_help)
    parser.add_argument('dst', type=output_file, help=dst_help)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace dst when it exists, a link there included (by a new '
        'file: the file a link names is left as it is); never the source')
    add_trust_checkpoint_argument(parser)
    return parser


def parse_converter_args(parser: argparse.ArgumentParser,
                         argv=None) -> argparse.Namespace:
    """Parse, refusing a ``dst`` that is ``src`` (it would be replaced),
    even with ``--overwrite``, and an existing ``dst`` (a file or a link,
    dangling or not) without ``--overwrite``. The converters write ``dst``
    with :func:`mmropim.utils.tensor_files.save_tensor_file`."""
    args = parser.parse_args(argv)
    if osp.realpath(args.dst) == osp.realpath(args.src) or same_file(
            args.dst, args.src):
        parser.error(f'dst {args.dst!r} is the source checkpoint; writing '
                     'there would replace it: choose another file name')
    if osp.lexists(args.dst) and not args.overwrite:
        kind = 'is a symbolic link' if osp.islink(args.dst) else 'exists'
        parser.error(f'dst {args.dst!r} {kind}; pass --overwrite to replace '
                     'it, or choose another file name')
    return args
