"""tools/benchmarks/small_scale.py: its digit set, its flags and a tiny run
end to end (its metrics and statistics: tests/test_evaluation/)."""
import json
import os.path as osp
import re

import numpy as np
import pytest
from mmengine.config import Config

from tools.benchmarks.small_scale import parse_args
from helpers import PRMIM_TINY_CFG, ROPIM_TINY_CFG, run_tool

# multi-process runs, full-size configs, benchmark scripts: `-m "not slow"`
pytestmark = pytest.mark.slow

COLUMNS = ('knn_cls', 'linear_cls', 'knn_mean', 'linear_mean',
           'finetune_top1')


def test_mnist_sample_is_real_balanced_digits():
    from mmropim.datasets.demo import load_mnist_5k
    images, labels = load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    # white strokes on a black background, not noise: the border is
    # (nearly) empty, the centre is not
    assert images.max() == 255
    assert images[:, :3, :].mean() < 1 < 50 < images[:, 10:18, 10:18].mean()
    # a "1" has far less ink than an "8"
    ink = images.reshape(5000, -1).mean(1)
    assert ink[labels == 1].mean() < 0.6 * ink[labels == 8].mean()


def test_digit_folders_are_disjoint_and_sized(tmp_path):
    from PIL import Image

    from mmropim.datasets.demo import write_digits_imagenet_style
    counts = write_digits_imagenet_style(
        str(tmp_path), size=32, train_per_class=3, val_per_class=2)
    assert counts == {'train': 30, 'val': 20}
    seen = {}
    for split, per_class in (('train', 3), ('val', 2)):
        for digit in range(10):
            folder = tmp_path / split / str(digit)
            files = sorted(folder.glob('*.png'))
            assert len(files) == per_class
            for path in files:
                image = Image.open(path)
                assert image.size == (32, 32) and image.mode == 'RGB'
                seen.setdefault(image.tobytes(), []).append(split)
    # no digit is in both splits (nor twice in one)
    assert all(len(splits) == 1 for splits in seen.values())
    meta = (tmp_path / 'meta' / 'val.txt').read_text().split('\n')
    assert meta[0] == '0/0_0000.png 0' and len(meta[:-1]) == 20


def test_digit_writer_rejects_more_digits_than_the_sample_has(tmp_path):
    import pytest

    from mmropim.datasets.demo import write_digits_imagenet_style
    with pytest.raises(ValueError, match=r'train_per_class \(450\).*500'):
        write_digits_imagenet_style(str(tmp_path), train_per_class=450,
                                    val_per_class=100)


def test_methods_flag_offers_the_rows_by_their_names():
    assert parse_args([]).methods == [
        'mae', 'partial-0-5', 'pr-mim-0-5', 'simmim', 'ropim-beit']
    args = parse_args(['--methods', 'mae', 'ropim-beit-lr-x2',
                       'ropim-beit-lr-x4'])
    assert args.methods == ['mae', 'ropim-beit-lr-x2', 'ropim-beit-lr-x4']
    assert (args.seeds, args.quick, args.data) == (1, False,
                                                   'data/demo/digits')


def test_tiny_small_scale_run_end_to_end(small_demo_root, tmp_path):
    """ROPIM at 2x the authors' lr and the random init of its BEiT-style
    ViT, 2 + 2 epochs on the demo images, 1 seed, one row at a time: the
    costliest row runs first, the table lists the random init first, and
    the pre-training and the fine-tunes ran with the options of their
    rows."""
    out_dir = tmp_path / 'out'
    log = run_tool('tools/benchmarks/small_scale.py', '--pretrain-epochs',
                   '2', '--finetune-epochs', '2', '--jobs', '1', '--methods',
                   'ropim-beit-lr-x2', '--data', small_demo_root, '--out-dir',
                   str(out_dir))
    names = ['random init (BEiT)', 'ROPIM (BEiT, lr x2)']
    # one row at a time, the pre-training first; only the random init of
    # the ViT the chosen row fine-tunes
    assert re.findall(r'^seed 0, (.+?): \{', log, re.M) == names[::-1], log
    result = json.loads((out_dir / 'small_scale.json').read_text())
    assert [row['method'] for row in result['rows']] == names
    assert [row['baseline'] for row in result['rows']] == [None, names[0]]
    random_init, ropim = result['rows']
    assert random_init['pretrain_gflops'] == 0.0 < ropim['pretrain_gflops']
    for row in result['rows']:
        assert row['seeds'] == 1
        for column in COLUMNS:
            assert 0.0 <= row[column] <= 100.0
            assert row[f'{column}_std'] == 0.0
    assert result['setting'].startswith(
        '1 seed(s), mean ± std; 2 pre-training epochs, 2 fine-tuning '
        f'epochs, 56 training / 28 held-out images from {small_demo_root}, ')
    assert ', 1 run(s) side by side with ' in result['setting']
    # each column against the random init of the same ViT
    for line, column in zip(result['verdicts'], COLUMNS, strict=True):
        assert re.fullmatch(
            rf'{column} vs random init of the same ViT: (above|below|tie): '
            r'ROPIM \(BEiT, lr x2\) \([+-]\d+\.\d\)', line), line
    # the report is printed as written
    setting, table, verdicts = (out_dir / 'small_scale.md').read_text(
    ).split('\n\n')
    assert f'{setting}\n{table}\n' in log
    assert table.splitlines()[2].startswith(
        '| random init (BEiT) | 0.00 | 0 | ')
    assert verdicts.splitlines()[0] == f'- {result["verdicts"][0]}'

    seed = out_dir / 'seed0'
    pretrain = Config.fromfile(
        seed / 'pretrain_ropim-beit-lr-x2' / osp.basename(ROPIM_TINY_CFG))
    # the ROPIM authors' lr is half MAE's (1.5e-4 per 512 images against
    # per 256): 2x it is the tiny MAE config's
    assert pretrain.optim_wrapper.optimizer.lr == pytest.approx(
        Config.fromfile(PRMIM_TINY_CFG).optim_wrapper.optimizer.lr)
    assert pretrain.model.backbone.type == 'ROPIMBEiTViT'
    assert pretrain.train_dataloader.dataset.data_root == small_demo_root
    finetunes = {
        name: Config.fromfile(seed / f'finetune_{name}' / 'finetune_config.py')
        for name in ('random-init-beit', 'ropim-beit-lr-x2')
    }
    for cfg in (pretrain, *finetunes.values()):
        # a tenth of the epochs, at least one, warms up; then the cosine
        warmup, cosine = cfg.param_scheduler
        assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 1)
        assert (cosine.type, cosine.begin, cosine.end,
                cosine.T_max) == ('CosineAnnealingLR', 1, 2, 1)
        assert (cfg.train_cfg.max_epochs, cfg.randomness.seed) == (2, 0)
        # digits are not mirror-symmetric
        assert [t.prob for t in cfg.train_dataloader.dataset.pipeline
                if t.type == 'RandomFlip'] == [0.0]
    for cfg in finetunes.values():
        assert cfg.model.backbone.type == 'BEiTViT'
        assert cfg.model.head.num_classes == 14
    assert finetunes['ropim-beit-lr-x2'].model.backbone.init_cfg[
        'checkpoint'] == str(seed / 'pretrain_ropim-beit-lr-x2' /
                             'epoch_2.pth')
    # the baseline starts where pre-training starts
    assert [dict(init) for init in
            finetunes['random-init-beit'].model.backbone.init_cfg] == [
                dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
                dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]
