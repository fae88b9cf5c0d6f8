"""The frozen-feature metrics of tools/benchmarks/small_scale.py."""
import importlib.util
import os.path as osp

import numpy as np
import pytest

from helpers import REPO_ROOT


def load_benchmark():
    path = osp.join(REPO_ROOT, 'tools', 'benchmarks', 'small_scale.py')
    spec = importlib.util.spec_from_file_location('small_scale', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clusters(centres, rng, num_per_class, noise):
    labels = np.repeat(np.arange(len(centres)), num_per_class)
    return centres[labels] + noise * rng.normal(
        size=(len(labels), centres.shape[1])), labels


def test_knn_and_linear_probe_separate_clusters_and_not_noise():
    bench = load_benchmark()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    # overlapping classes: the nearest centre is right about 95% of the time
    train_x, train_y = clusters(centres, np.random.default_rng(1), 50, 1.2)
    test_x, test_y = clusters(centres, np.random.default_rng(2), 50, 1.2)
    nearest_centre = np.argmin(
        ((test_x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    bayes = 100 * (nearest_centre == test_y).mean()
    assert 85 < bayes < 100
    for metric in (bench.knn_accuracy, bench.linear_probe_accuracy):
        assert bayes - 10 < metric(train_x, train_y, test_x, test_y) <= 100
        # features unrelated to the labels: about chance (25%)
        noise_train = rng.normal(size=train_x.shape)
        noise_test = rng.normal(size=test_x.shape)
        assert metric(noise_train, train_y, noise_test, test_y) < 45.0


def test_mnist_sample_is_real_balanced_digits():
    from tools.dataset_converters import load_mnist_5k
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

    from tools.dataset_converters import write_digits_imagenet_style
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

    from tools.dataset_converters import write_digits_imagenet_style
    with pytest.raises(ValueError, match=r'train_per_class \(450\).*500'):
        write_digits_imagenet_style(str(tmp_path), train_per_class=450,
                                    val_per_class=100)


def test_schedule_options_fit_every_config_used_to_the_epochs():
    bench = load_benchmark()
    # longer runs warm up for a tenth of the epochs
    assert 'param_scheduler.1.begin=10' in bench.schedule_options(100)
    configs = {config for config, _, finetune in bench.METHODS.values()}
    configs |= {finetune for _, _, finetune in bench.METHODS.values()}
    assert bench.BEIT_FINETUNE_CFG in configs
    for config in configs:
        cfg = bench.load_config(
            config,
            bench.schedule_options(7) + [bench.no_flip(config),
                                         bench.seed_option(2)])
        warmup, cosine = cfg.param_scheduler
        assert (warmup.type, cosine.type) == ('LinearLR',
                                              'CosineAnnealingLR'), config
        assert (warmup.begin, warmup.end) == (0, 1)
        assert (cosine.begin, cosine.end, cosine.T_max) == (1, 7, 6)
        assert cfg.train_cfg.max_epochs == 7
        assert cfg.randomness.seed == 2
        flips = [t for t in cfg.train_dataloader.dataset.pipeline
                 if t.type == 'RandomFlip']
        assert [flip.prob for flip in flips] == [0.0], config


def test_method_options_change_existing_keys_only():
    bench = load_benchmark()
    for name, (config, options, _) in bench.ALL_METHODS.items():
        cfg = bench.load_config(config)
        for option in options:
            key, value = option.split('=', 1)
            *parents, leaf = key.split('.')
            node = cfg
            for part in parents:
                node = node[int(part)] if part.isdigit() else node[part]
            assert leaf in node, f'{name}: {key} is not in {config}'
            if 'pipeline.' in key:
                assert node.type == 'FurthestSampling', (name, key)


def test_ropim_runs_on_the_authors_backbone_at_their_lr_relative_to_mae():
    """The ROPIM authors: BEiT-style ViT, 1.5e-4 per 512 images; MAE (and
    PR-MIM): 1.5e-4 per 256. The tiny ROPIM run gets half MAE's lr, and is
    fine-tuned as a BEiT-style ViT."""
    bench = load_benchmark()
    ropim_config, options, finetune = bench.METHODS['ROPIM (BEiT)']
    mae_config, mae_options, _ = bench.METHODS['MAE']
    ropim = bench.load_config(ropim_config, options)
    mae = bench.load_config(mae_config, mae_options)
    assert ropim.model.backbone.type == 'ROPIMBEiTViT'
    assert ropim.model.backbone.get('authors_init', True)
    assert ropim.train_dataloader.batch_size == mae.train_dataloader.batch_size
    assert ropim.optim_wrapper.optimizer.lr == pytest.approx(
        mae.optim_wrapper.optimizer.lr / 2)
    assert bench.load_config(finetune).model.backbone.type == 'BEiTViT'
    # the frozen read-out is that backbone, final-normed, all tokens
    vit = bench.feature_backbone(finetune)
    assert type(vit).__name__ == 'BEiTViT' and vit.final_norm
    assert vit.out_type == 'raw'


def rows_over_seeds(values):
    """One list of rows per seed: method -> that seed's value in every
    column."""
    columns = load_benchmark().COLUMNS
    return [[
        dict(method=method, seed=seed, pretrain_gflops=0.0, pretrain_s=1.0,
             baseline=(None if method.startswith('random init') else
                       'random init (BEiT)' if method.endswith('(BEiT)')
                       else 'random init'),
             **dict.fromkeys(columns, per_seed[seed]))
        for method, per_seed in values.items()
    ] for seed in range(len(next(iter(values.values()))))]


def test_summary_is_mean_and_sample_std_over_seeds():
    bench = load_benchmark()
    rows = bench.summarize(rows_over_seeds(
        {'random init': [50.0, 52.0, 54.0], 'A': [60.0, 60.0, 63.0]}))
    assert [r['method'] for r in rows] == ['random init', 'A']
    assert rows[0]['knn_cls'] == 52.0 and rows[0]['knn_cls_std'] == 2.0
    assert rows[1]['finetune_top1'] == 61.0
    assert rows[1]['finetune_top1_std'] == pytest.approx(3**0.5)
    assert rows[0]['seeds'] == 3
    assert '| 52.0 ± 2.0 |' in bench.markdown_table(rows)


def test_verdicts_account_for_the_spread():
    bench = load_benchmark()
    # A: +10 with a small spread (above); B: +2 with a large spread (tie);
    # C: -10 (below)
    rows = bench.summarize(rows_over_seeds({
        'random init': [50.0, 51.0, 49.0],
        'A': [60.0, 61.0, 59.0],
        'B': [44.0, 60.0, 52.0],
        'C': [40.0, 41.0, 39.0],
    }))
    lines = bench.verdicts(rows)
    assert lines[0] == ('knn_cls vs random init of the same ViT: above: '
                        'A (+10.0); below: C (-10.0); tie: B (+2.0)')
    assert len(lines) == len(bench.COLUMNS)  # no claim names A, B or C
    word, difference, error = bench.compare(rows[2], rows[0], 'knn_cls')
    assert word == 'tie' and difference == pytest.approx(2.0)
    assert error == pytest.approx(((8.0**2 + 1.0**2) / 3)**0.5)
    # with one seed, the sign decides
    one = bench.summarize(rows_over_seeds({'random init': [50.0],
                                           'A': [50.5]}))
    assert bench.compare(one[1], one[0], 'knn_cls')[0] == 'above'


def test_each_method_is_compared_with_random_init_of_its_own_vit():
    """ROPIM fine-tunes a BEiT-style ViT: its verdicts are against that
    ViT's random init, not the plain ViT's."""
    bench = load_benchmark()
    assert bench.baseline_of('ROPIM (BEiT)') == 'random init (BEiT)'
    assert bench.BASELINES['random init (BEiT)'] == bench.BEIT_FINETUNE_CFG
    for method in ('MAE', 'partial (γ 0.5)', 'PR-MIM (γ 0.5)', 'SimMIM'):
        assert bench.baseline_of(method) == 'random init'
    # below the plain ViT's random init, above the BEiT-style one's
    rows = bench.summarize(rows_over_seeds({
        'random init': [50.0, 51.0, 49.0],
        'random init (BEiT)': [30.0, 31.0, 29.0],
        'A (BEiT)': [40.0, 41.0, 39.0],
    }))
    assert bench.verdicts(rows)[0] == (
        'knn_cls vs random init of the same ViT: above: A (BEiT) (+10.0)')
    # (a module of this test's own: load_benchmark() loads it afresh)
    bench.ALL_METHODS['X'] = ('a.py', [], 'other_finetune.py')
    with pytest.raises(ValueError, match='X fine-tunes other_finetune.py, '
                       'which no random-init baseline uses'):
        bench.baseline_of('X')


def test_rows_run_side_by_side_and_come_back_in_table_order():
    """--jobs 2: two rows run at once (each waits for the other at a
    barrier, which one at a time would never pass); the results keep the
    order of the tasks, not the order they finish in."""
    import threading
    import time
    bench = load_benchmark()
    barrier = threading.Barrier(2, timeout=10)

    def row(key, wait):
        def task():
            barrier.wait()
            time.sleep(wait)
            return key
        return task

    results = bench.run_side_by_side(
        {'slow': row('slow', 0.3), 'fast': row('fast', 0.0)}, jobs=2)
    assert list(results.items()) == [('slow', 'slow'), ('fast', 'fast')]
    # one at a time, the first row waits at the barrier alone
    barrier = threading.Barrier(2, timeout=0.5)
    with pytest.raises(threading.BrokenBarrierError):
        bench.run_side_by_side({'a': row('a', 0.0), 'b': row('b', 0.0)},
                               jobs=1)


def test_a_failed_row_cancels_the_rows_not_started():
    bench = load_benchmark()
    started = []

    def task(key):
        def run():
            started.append(key)
            if key == 'b':
                raise RuntimeError('b failed')
            return key
        return run

    with pytest.raises(RuntimeError, match='b failed'):
        bench.run_side_by_side({key: task(key) for key in 'abcdef'}, jobs=1)
    assert started == ['a', 'b']


def test_training_processes_get_the_thread_count_of_a_job():
    """The path train() takes: PROCESSES.run with a job's thread count."""
    import os
    import sys
    bench = load_benchmark()
    count = ('import sys, torch; '
             'sys.stderr.write(str(torch.get_num_threads()))')
    # (torch starts no more threads than cores here)
    for threads in sorted({1, min(2, os.cpu_count())}):
        returncode, stderr = bench.PROCESSES.run([sys.executable, '-c', count],
                                                 threads)
        assert (returncode, stderr.strip()) == (0, str(threads))
    # 0: the inherited environment, untouched
    assert bench.job_environment(0) == dict(os.environ)


def assert_stop_ends_training(bench, stop, expected, match=None):
    """Run three rows side by side (jobs=2): one whose training process
    would run for a minute, with a worker process of its own holding the
    same stderr (as data workers do); one that calls ``stop`` once that
    training runs; one queued after them. ``expected`` is raised well
    within the minute and the queued row never starts."""
    import sys
    import threading
    import time
    worker = [sys.executable, '-c', 'import time; time.sleep(60)']
    training = ('import subprocess, time; '
                f'subprocess.Popen({worker!r}); time.sleep(60)')
    started = threading.Event()
    ran = []

    def sleeper():
        started.set()
        returncode, _ = bench.PROCESSES.run([sys.executable, '-c', training])
        return returncode

    def stopper():
        started.wait(10)
        time.sleep(0.5)  # the sleeper's process is running
        return stop()

    tick = time.time()
    with pytest.raises(expected, match=match):
        bench.run_side_by_side({
            'sleeper': sleeper,
            'stopper': stopper,
            'later': lambda: ran.append('later')
        }, jobs=2)
    assert time.time() - tick < 20  # not the sleeper's minute
    assert ran == []


def test_a_failure_kills_the_running_training_and_starts_no_more():
    bench = load_benchmark()

    def failing():
        raise RuntimeError('row failed')

    assert_stop_ends_training(bench, failing, RuntimeError, 'row failed')
    with pytest.raises(RuntimeError, match='benchmark is stopping'):
        bench.PROCESSES.run(['true'])


def test_ctrl_c_kills_the_running_training_and_starts_no_more():
    import signal
    import threading
    import time
    bench = load_benchmark()

    def interrupt():
        # Ctrl-C: SIGINT to the main thread, waiting on the rows
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(1)  # a row still at work when Ctrl-C comes
        return 'done'

    # Python's Ctrl-C handler, as in a terminal (a shell's background job,
    # such as a CI step, inherits SIGINT ignored)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert_stop_ends_training(bench, interrupt, KeyboardInterrupt)
    finally:
        signal.signal(signal.SIGINT, handler)


def test_random_init_read_outs_do_not_depend_on_rows_running_beside():
    """Two rows drawing their random init at once (seeds 0 and 1) get the
    features each gets alone: no row draws from torch's global generator
    between another row's seed and its init."""
    import threading

    import torch
    bench = load_benchmark()
    images = torch.randn(2, 3, 64, 64)

    def features(seed):
        return bench.frozen_features(None, bench.BEIT_FINETUNE_CFG, seed,
                                     images)['mean'][0]

    alone = {seed: features(seed) for seed in (0, 1)}
    assert not np.allclose(alone[0], alone[1])
    for _ in range(5):
        beside = {}
        threads = [
            threading.Thread(target=lambda s=seed: beside.update(
                {s: features(s)})) for seed in (0, 1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for seed in (0, 1):
            np.testing.assert_array_equal(beside[seed], alone[seed])


def test_rows_by_default_and_chosen_with_methods():
    bench = load_benchmark()
    names = [name for name, _ in bench.row_plan()]
    assert names == ['random init', 'random init (BEiT)', 'MAE',
                     'partial (γ 0.5)', 'PR-MIM (γ 0.5)', 'SimMIM',
                     'ROPIM (BEiT)']
    # an extra row comes with the random init of its own ViT only
    plan = bench.row_plan(['ropim-beit-lr-x2'])
    assert [name for name, _ in plan] == ['random init (BEiT)',
                                          'ROPIM (BEiT, lr x2)']
    lr = bench.load_config(plan[1][1][0], plan[1][1][1]).optim_wrapper
    authors = bench.load_config(*bench.METHODS['ROPIM (BEiT)'][:2])
    assert lr.optimizer.lr == pytest.approx(
        2 * authors.optim_wrapper.optimizer.lr)
    # every row has a folder of its own
    slugs = [bench.slug(name)
             for name in list(bench.ALL_METHODS) + list(bench.BASELINES)]
    assert len(set(slugs)) == len(slugs)
    assert bench.slug('PR-MIM (γ 0.5)') == 'pr-mim-0-5'
    args = bench.parse_args(['--methods', 'mae', 'ropim-beit-lr-x4'])
    assert [name for name, _ in bench.row_plan(args.methods)] == [
        'random init', 'random init (BEiT)', 'MAE', 'ROPIM (BEiT, lr x4)']


def test_main_runs_the_chosen_rows_and_writes_them_in_table_order(
        tmp_path, monkeypatch):
    """main() with the training and the read-outs stubbed: the rows of
    --methods and their baseline, every seed, the costliest first, the
    table in table order whatever the order of finishing."""
    import json
    import threading
    bench = load_benchmark()
    (tmp_path / 'digits' / 'train').mkdir(parents=True)
    monkeypatch.setattr(bench, 'load_split', lambda root, split: (
        np.zeros((4, 3, 8, 8), np.float32), np.arange(4) % 2))
    monkeypatch.setattr(bench, 'pretrain_gflops_per_image',
                        lambda config, options: 4.0 if 'ropim' in config
                        else 2.0)
    started, lock = [], threading.Lock()

    def run_row(seed, name, plan, *args):
        with lock:
            started.append((seed, name))
        row = dict(method=name, seed=seed, pretrain_gflops=0.0,
                   pretrain_s=0.0, baseline=bench.baseline_of(name)
                   if plan[0] else None)
        base = 50.0 if plan[0] is None else 60.0
        return dict(row, **dict.fromkeys(bench.COLUMNS, base + seed))

    monkeypatch.setattr(bench, 'run_row', run_row)
    bench.main(['--quick', '--seeds', '2', '--jobs', '2', '--methods',
                'mae', 'ropim-beit-lr-x2', '--data', str(tmp_path / 'digits'),
                '--out-dir', str(tmp_path / 'out')])
    names = ['random init', 'random init (BEiT)', 'MAE',
             'ROPIM (BEiT, lr x2)']
    assert sorted(started) == sorted((seed, name) for seed in (0, 1)
                                     for name in names)
    # ROPIM's pre-training is the costliest (as its FLOPs are), the random
    # inits come last
    assert [name for _, name in started[:2]] == ['ROPIM (BEiT, lr x2)'] * 2
    assert {name for _, name in started[-4:]} == set(names[:2])
    result = json.loads((tmp_path / 'out' / 'small_scale.json').read_text())
    assert [row['method'] for row in result['rows']] == names
    assert [[row['seed'] for row in run] for run in result['runs']] == [
        [0] * 4, [1] * 4]
    assert result['rows'][2]['knn_cls'] == 60.5
    assert '2 run(s) side by side' in result['setting']
