"""ReweightingHook: rounds, warm-up, floor, skipped rounds and checkpoints
with a mocked runner; the 2-rank reduction of per-type validation losses; a
real Runner where the hardest type gains weight; a resumed run that matches
an uninterrupted one; the replay tool agreeing with the hook."""
import glob
import io
import json
import os
import os.path as osp
import uuid
from unittest.mock import MagicMock

import cv2
import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmagic.structures import DataSample
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from conftest import free_port, import_tool, tiny_config, write_pair_tree
from unirain_mm.engine import ReweightingHook
from unirain_mm.engine.hooks.reweighting_hook import reduce_type_losses
from unirain_mm.rain_types import RAIN_TYPES
from unirain_mm.reweighting import CoBa, apply_floor

# ------------------------------------------------------------ mocked runner


class _Model(torch.nn.Module):
    rain_types = RAIN_TYPES

    def __init__(self):
        super().__init__()
        self.register_buffer('type_weights', torch.full((4, ), 0.25))


def _runner(tmp_path):
    runner = MagicMock()
    runner.model = _Model()
    runner.message_hub = MessageHub.get_instance(f'rw_{uuid.uuid4().hex}')
    runner.work_dir = str(tmp_path)
    runner.rank = 0
    runner.iter = 0
    return runner


def _outputs(errors, per_type=2):
    """Validation outputs whose L1 of type t is ``errors[t] / 255``."""
    samples = []
    for type_id, err in errors.items():
        for i in range(per_type):
            sample = DataSample(gt_img=torch.full((3, 4, 4), 100.0),
                                metainfo=dict(gt_path=f'{type_id}_{i}.png'))
            sample.set_gt_label(type_id)
            sample.output = DataSample(
                pred_img=torch.full((3, 4, 4), 100.0 + err))
            samples.append(sample)
    return samples


def _round(hook, runner, errors):
    runner.iter += 2
    hook.before_val_epoch(runner)
    outputs = _outputs(errors)
    hook.after_val_iter(runner, 0, None, outputs[:3])
    hook.after_val_iter(runner, 1, None, outputs[3:])
    hook.after_val_epoch(runner, {})


def _start(hook, runner):
    hook.before_run(runner)
    hook.before_train(runner)


ROUNDS = [[20, 30, 40, 50], [18, 29, 40, 52], [15, 28, 40, 55],
          [12, 27, 41, 60], [10, 26, 41, 66]]


def _as_errors(row):
    return dict(enumerate(row))


@pytest.mark.parametrize('floor_mode', ['affine', 'lift'])
def test_warmup_floor_weights_and_logs(tmp_path, floor_mode):
    runner = _runner(tmp_path)
    hook = ReweightingHook(dict(type='CoBa', variant='paper', window=3),
                           warmup=2, floor=0.1, floor_mode=floor_mode)
    _start(hook, runner)
    hub = runner.message_hub
    assert hub.get_scalar('train/w_DRS').current() == 0.25
    reference = CoBa(4, variant='paper', window=3)
    floor_used = False
    for n, row in enumerate(ROUNDS, 1):
        _round(hook, runner, _as_errors(row))
        if n <= 2:  # warm-up: the losses are recorded, nothing else
            reference.observe(np.array(row) / 255)
            expected = np.full(4, 0.25)
        else:
            raw = reference.update(np.array(row) / 255)
            expected = apply_floor(raw, 0.1, floor_mode)
            floor_used |= raw.min() < 0.1
        np.testing.assert_allclose(runner.model.type_weights.numpy(),
                                   expected, rtol=1e-6)
        for t, name in enumerate(RAIN_TYPES):
            assert hub.get_scalar(f'val/{name}/L1').current() == \
                pytest.approx(row[t] / 255)
            assert hub.get_scalar(f'train/w_{name}').current() == \
                pytest.approx(expected[t])
    assert floor_used
    assert runner.model.type_weights.min() >= 0.1 - 1e-7
    assert hub.get_scalar('train/coba_af').current() == \
        pytest.approx(reference.stats['coba_af'])
    assert hub.get_scalar('train/coba_tss_NRD').current() == \
        pytest.approx(reference.stats['coba_tss'][3])
    with open(tmp_path / 'reweighting_history.json') as f:
        history = json.load(f)
    assert [r['status'] for r in history['records']] == \
        ['warmup', 'warmup', 'update', 'update', 'update']
    assert [r['iter'] for r in history['records']] == [2, 4, 6, 8, 10]
    assert history['records'][-1]['val_l1'] == pytest.approx(
        [v / 255 for v in ROUNDS[-1]])
    runner.logger.warning.assert_not_called()


def test_bad_rounds_are_skipped_and_never_nan(tmp_path):
    runner = _runner(tmp_path)
    hook = ReweightingHook(dict(type='CoBa', window=3), warmup=0, floor=0.)
    _start(hook, runner)
    reference = CoBa(4, window=3)  # floor 0: the affine floor is identity
    for row in ROUNDS[:3]:
        _round(hook, runner, _as_errors(row))
        expected = reference.update(np.array(row) / 255)
    before = runner.model.type_weights.clone()
    _round(hook, runner, {0: 10, 1: 20, 2: 30})  # no NRD image
    _round(hook, runner, _as_errors([float('nan'), 26, 41, 66]))
    _round(hook, runner, _as_errors([float('inf'), 26, 41, 66]))
    assert torch.equal(runner.model.type_weights, before)
    assert runner.logger.warning.call_count == 3
    assert 'NRD' in runner.logger.warning.call_args_list[0].args[0]
    statuses = [r['status'] for r in hook.history]
    assert statuses == ['update'] * 3 + ['skipped'] * 3
    # skipped rounds never reach the strategy
    _round(hook, runner, _as_errors(ROUNDS[3]))
    expected = reference.update(np.array(ROUNDS[3]) / 255)
    np.testing.assert_allclose(runner.model.type_weights.numpy(), expected,
                               rtol=1e-6)
    assert torch.isfinite(runner.model.type_weights).all()
    json.loads((tmp_path / 'reweighting_history.json').read_text())


def test_interval_counts_validation_rounds(tmp_path):
    runner = _runner(tmp_path)
    hook = ReweightingHook(dict(type='DWA'), interval=2, warmup=0, floor=0.)
    _start(hook, runner)
    for row in ROUNDS[:4]:
        _round(hook, runner, _as_errors(row))
    assert hook.rounds == 4
    assert [r['iter'] for r in hook.history] == [4, 8]
    # DWA over the 2nd and 4th round only
    ratio = np.array(ROUNDS[3]) / np.array(ROUNDS[1])
    expected = np.exp(ratio / 2) / np.exp(ratio / 2).sum()
    np.testing.assert_allclose(runner.model.type_weights.numpy(), expected,
                               rtol=1e-6)


def test_validation_outside_training_changes_nothing(tmp_path):
    runner = _runner(tmp_path)
    hook = ReweightingHook()
    hook.before_run(runner)  # no before_train: e.g. runner.val()
    _round(hook, runner, _as_errors(ROUNDS[0]))
    assert hook.rounds == 0 and hook.history == []


def test_model_without_weights_is_rejected(tmp_path):
    runner = _runner(tmp_path)
    runner.model = torch.nn.Linear(2, 2)
    with pytest.raises(TypeError, match='type_weights'):
        ReweightingHook().before_run(runner)


def _checkpoint(hook, runner):
    ckpt = dict(meta=dict(iter=runner.iter),
                state_dict=runner.model.state_dict())
    hook.before_save_checkpoint(runner, ckpt)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


@pytest.mark.parametrize('strategy', [
    dict(type='CoBa', variant='official', window=3),
    dict(type='CoBa', variant='paper', window=3),
    dict(type='FAMO'),
])
def test_checkpoint_round_trip(tmp_path, strategy):
    runner = _runner(tmp_path / 'a')
    hook = ReweightingHook(strategy, warmup=1)
    _start(hook, runner)
    for row in ROUNDS[:3]:
        _round(hook, runner, _as_errors(row))
    ckpt = _checkpoint(hook, runner)

    resumed_runner = _runner(tmp_path / 'b')
    resumed_runner.model.load_state_dict(ckpt['state_dict'])
    resumed_runner.iter = ckpt['meta']['iter']
    resumed = ReweightingHook(strategy, warmup=1)
    resumed.before_run(resumed_runner)
    resumed.after_load_checkpoint(resumed_runner, ckpt)
    resumed.before_train(resumed_runner)
    assert resumed.state_dict() == hook.state_dict()
    assert resumed_runner.message_hub.get_scalar('train/w_DRD').current() \
        == pytest.approx(float(hook.weights(runner)[1]))
    for row in ROUNDS[3:]:
        _round(hook, runner, _as_errors(row))
        _round(resumed, resumed_runner, _as_errors(row))
    assert torch.equal(resumed_runner.model.type_weights,
                       runner.model.type_weights)
    assert resumed.history == hook.history

    # load_from without resume (iteration 0) starts afresh
    fresh_runner = _runner(tmp_path / 'c')
    fresh = ReweightingHook(strategy, warmup=1)
    fresh.before_run(fresh_runner)
    fresh.after_load_checkpoint(fresh_runner, ckpt)
    fresh.before_train(fresh_runner)
    assert fresh.history == [] and fresh.rounds == 0
    # a checkpoint of another strategy is refused
    other_runner = _runner(tmp_path / 'd')
    other_runner.iter = ckpt['meta']['iter']
    other = ReweightingHook(dict(type='Uniform'))
    other.before_run(other_runner)
    other.after_load_checkpoint(other_runner, ckpt)
    with pytest.raises(ValueError, match='reweighting'):
        other.before_train(other_runner)


def test_replay_tool_agrees_with_the_hook(tmp_path):
    replay_tool = import_tool('analysis/replay_reweighting')
    runner = _runner(tmp_path)
    settings = dict(strategy=dict(type='CoBa', variant='official', window=3,
                                  tau=2.0), interval=2, warmup=2, floor=0.05)
    hook = ReweightingHook(**settings)
    _start(hook, runner)
    rng = np.random.default_rng(0)
    # integer errors: exact in the float32 images the hook measures
    rounds = [[float(v) for v in rng.integers(5, 60, 4)] for _ in range(14)]
    rounds[5] = rounds[5][:3] + [None]  # NRD without images: skipped
    for row in rounds:
        _round(hook, runner, {t: e for t, e in enumerate(row)
                              if e is not None})
    cfg_path = tmp_path / 'cfg.py'
    cfg_path.write_text(
        f'model = dict(rain_types={list(RAIN_TYPES)})\n'
        f'custom_hooks = [dict(type="AverageMetricsHook"), '
        f'dict(type="ReweightingHook", **{settings!r})]\n')
    # the per-round losses the hook measured (L1 = error / 255), as a list
    losses = tmp_path / 'losses.json'
    losses.write_text(json.dumps(
        [[None if e is None else e / 255 for e in row] for row in rounds]))
    out = replay_tool.main([str(cfg_path), '--losses', str(losses)])
    assert len(out['weights']) == 14
    due = [r['weights'] for r in hook.history]
    assert out['weights'][1::2] == due  # bit-identical
    assert out['weights'][0] == [0.25] * 4  # not due yet
    assert out['status'][1::2] == [r['status'] for r in hook.history]
    assert 'skipped' in out['status']
    np.testing.assert_array_equal(runner.model.type_weights.numpy(),
                                  np.float32(due[-1]))
    # and from the hook's own history file, with a plot
    png = tmp_path / 'replay.png'
    from_history = replay_tool.main([
        str(cfg_path), '--losses',
        str(tmp_path / 'reweighting_history.json'), '--plot', str(png)])
    assert from_history['weights'] == due
    assert png.stat().st_size > 0


def test_replay_tool_refuses_bad_input(tmp_path):
    replay_tool = import_tool('analysis/replay_reweighting')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text('custom_hooks = [dict(type="ReweightingHook")]\n')
    bad = tmp_path / 'bad.json'
    for content, match in (('[[0.1, 0.2]]', 'round 0 must be a list of 4'),
                           ('{"rounds": []}', 'records'),
                           ('not json', 'cannot read')):
        bad.write_text(content)
        with pytest.raises(SystemExit, match=match):
            replay_tool.main([str(cfg), '--losses', str(bad)])
    no_hook = tmp_path / 'no_hook.py'
    no_hook.write_text('custom_hooks = []\n')
    bad.write_text('[]')
    with pytest.raises(SystemExit, match='one ReweightingHook'):
        replay_tool.main([str(no_hook), '--losses', str(bad)])


def test_old_checkpoint_state_is_refused_clearly(tmp_path):
    runner = _runner(tmp_path)
    runner.iter = 10
    hook = ReweightingHook()
    hook.before_run(runner)
    old = dict(rain_types=list(RAIN_TYPES), strategy_type='CoBa',
               strategy={}, rounds=3, updates=3, last_round_iter=10,
               stats={}, history=[])
    hook.after_load_checkpoint(runner, dict(meta=dict(iter=10,
                                                      reweighting=old)))
    with pytest.raises(ValueError, match='load_from'):
        hook.before_train(runner)


# ---------------------------------------------------- 2-rank loss reduction


def test_reduce_single_process():
    records = {(0, 'a'): 0.1, (0, 'b'): 0.3, (2, 'c'): 0.5}
    means, counts = reduce_type_losses(records, 4)
    np.testing.assert_allclose(means[[0, 2]], [0.2, 0.5])
    assert np.isnan(means[[1, 3]]).all()
    np.testing.assert_array_equal(counts, [2, 0, 1, 0])


def _reduce_worker(rank, port, out_dir):
    torch.set_num_threads(1)
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=2)
    try:
        # Rank 1 also holds 'b': DDP's sampler pads shards by repeating
        # images, which must count once.
        records = [{(0, 'a'): 0.1, (0, 'b'): 0.3, (1, 'c'): 0.2},
                   {(0, 'b'): 0.3, (1, 'd'): 0.4, (2, 'e'): 0.5}][rank]
        means, counts = reduce_type_losses(records, 4)
        coba = CoBa(4, window=3)
        for scale in (1.0, 0.9, 0.85):  # identical weights on both ranks
            weights = coba.update(np.nan_to_num(means, nan=1.0) * scale)
        np.save(os.path.join(out_dir, f'rank{rank}.npy'),
                np.concatenate([means, counts, weights]))
    finally:
        torch_dist.destroy_process_group()


def test_reduce_two_gloo_processes(tmp_path):
    mp.start_processes(_reduce_worker, args=(free_port(), str(tmp_path)),
                       nprocs=2, start_method='fork')
    rank0, rank1 = (np.load(tmp_path / f'rank{r}.npy') for r in (0, 1))
    assert np.array_equal(rank0, rank1, equal_nan=True)
    means, counts = rank0[:4], rank0[4:8]
    np.testing.assert_allclose(means[:3], [0.2, 0.3, 0.5])
    assert np.isnan(means[3])
    np.testing.assert_array_equal(counts, [2, 2, 1, 0])


# --------------------------------------------------------------- real Runner


@pytest.fixture
def one_thread():
    """Runner tests are latency-bound; extra threads only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def hard_tree(tmp_path_factory):
    """The tiny tree where NRD targets carry unpredictable noise: its L1 has
    a high floor, so it improves slowest relative to its first value."""
    root = write_pair_tree(str(tmp_path_factory.mktemp('hard')))
    rng = np.random.default_rng(1)
    for path in sorted(glob.glob(osp.join(root, '*', 'NRD', 'target', '*'))):
        img = cv2.imread(path).astype(np.float32)
        img += rng.normal(0, 30, img.shape)
        cv2.imwrite(path, np.clip(img, 0, 255).astype(np.uint8))
    return root


def _reweighting_cfg(data_root, work_dir, max_iters, strategy, warmup):
    cfg = tiny_config(data_root, work_dir, max_iters=max_iters,
                      val_interval=2)
    cfg.custom_hooks = [
        dict(type='AverageMetricsHook'),
        dict(type='ReweightingHook', strategy=strategy, warmup=warmup,
             floor=0.0)
    ]
    return cfg


def _scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_slowest_type_gains_weight(hard_tree, tmp_path, one_thread):
    # tau = 0 makes AF = 1, so w = TBS: the balance term alone, which gives
    # the type whose (normalised) loss falls slowest the largest weight.
    strategy = dict(type='CoBa', variant='paper', window=4, tau=0.)
    cfg = _reweighting_cfg(hard_tree, str(tmp_path), 24, strategy, warmup=2)
    cfg.optim_wrapper.optimizer.lr = 2e-3
    cfg.default_hooks.checkpoint.update(interval=1000, save_best=None)
    cfg.default_hooks.logger.interval = 4
    runner = Runner.from_cfg(cfg)
    runner.train()

    with open(tmp_path / 'reweighting_history.json') as f:
        records = json.load(f)['records']
    assert len(records) == 12
    l1 = np.array([r['val_l1'] for r in records])
    assert np.argmax(l1[-1] / l1[0]) == 3  # NRD improved the least
    updates = np.array([r['weights'] for r in records
                        if r['status'] == 'update'])
    assert len(updates) == 10
    # validation noise may flip a single round; the trend must not
    assert (updates[:, 3] > 0.35).mean() >= 0.8
    assert (updates.argmax(axis=1) == 3).mean() >= 0.8
    assert updates.mean(axis=0).argmax() == 3
    np.testing.assert_allclose(runner.model.type_weights.numpy(),
                               updates[-1], rtol=1e-6)
    hub = runner.message_hub
    assert hub.get_scalar('train/w_NRD').current() == \
        pytest.approx(updates[-1, 3])
    logged = _scalars(str(tmp_path))
    assert [s['w_NRD'] for s in logged if s['step'] == 24 and 'w_NRD' in s]
    assert [s['NRD/L1'] for s in logged if 'NRD/L1' in s][-1] == \
        pytest.approx(l1[-1, 3])

    # the tool re-plots from the work dir or the JSON
    png = tmp_path / 'reweighting.png'
    assert png.stat().st_size > 0
    png.unlink()
    plot_reweighting = import_tool('analysis/plot_reweighting')
    assert plot_reweighting.main([str(tmp_path)]) == str(png)
    assert png.stat().st_size > 0
    out = str(tmp_path / 'again.png')
    plot_reweighting.main(
        [str(tmp_path / 'reweighting_history.json'), '--out', out])
    assert os.path.getsize(out) > 0


def test_resumed_run_matches_uninterrupted(pair_tree, tmp_path, one_thread):
    strategy = dict(type='CoBa', variant='official', window=3)

    def cfg_for(work_dir):
        cfg = _reweighting_cfg(pair_tree, work_dir, 12, strategy, warmup=1)
        # without a best checkpoint iter_6.pth is not re-saved after the
        # validation of iteration 6: the resumed run must re-measure it
        cfg.default_hooks.checkpoint.update(interval=3, save_best=None)
        return cfg

    full = Runner.from_cfg(cfg_for(str(tmp_path / 'full')))
    full.train()
    ckpt = str(tmp_path / 'full' / 'iter_6.pth')
    meta = torch.load(ckpt, weights_only=False)['meta']['reweighting']
    assert meta['last_round_iter'] == 4  # predates the round at iter 6

    cfg = cfg_for(str(tmp_path / 'resumed'))
    cfg.resume = True
    cfg.load_from = ckpt
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert torch.equal(resumed.model.type_weights, full.model.type_weights)
    histories = [
        json.loads((tmp_path / d / 'reweighting_history.json').read_text())
        for d in ('full', 'resumed')
    ]
    assert histories[0] == histories[1]
    weights = [r['weights'] for r in histories[0]['records']]
    assert len({tuple(w) for w in weights}) > 3  # the weights did move
    losses = [{s['step']: s['loss'] for s in _scalars(str(tmp_path / d))
               if 'loss' in s} for d in ('full', 'resumed')]
    assert [losses[1][i] for i in range(7, 13)] == \
        [losses[0][i] for i in range(7, 13)]
