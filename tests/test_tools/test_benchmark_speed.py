"""tools/analysis/benchmark_speed.py on tiny models at 64x64 (smoke test:
the recorded figures come from full-size runs on an idle machine)."""
import argparse
import json
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import DEMO_CONFIG, REPO_ROOT

TINY = {
    'unirain': (DEMO_CONFIG, dict(dim=8, num_heads=(1, 1, 1, 1))),
    'restormer': (osp.join(REPO_ROOT, 'configs', 'baselines',
                           'restormer_all.py'),
                  dict(dim=8, num_blocks=[1, 1, 1, 1],
                       num_refinement_blocks=1, heads=[1, 1, 1, 1])),
    'nafnet': (osp.join(REPO_ROOT, 'configs', 'baselines', 'nafnet_all.py'),
               dict(mid_channels=8, enc_blk_nums=[1, 1, 1, 1])),
}


@pytest.fixture
def tool(monkeypatch):
    # on sys.path while the test runs, so spawned workers can import it
    monkeypatch.syspath_prepend(osp.join(REPO_ROOT, 'tools', 'analysis'))
    import benchmark_speed
    return benchmark_speed


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('speed')
    paths = {}
    for name, (path, tiny) in TINY.items():
        cfg = Config.fromfile(path)
        cfg.model.generator.update(tiny)
        paths[name] = str(tmp / f'{name}_tiny.py')
        cfg.dump(paths[name])
    return paths


def test_parse_shape(tool):
    assert tool.parse_shape('1920x1080') == (1080, 1920)
    with pytest.raises(argparse.ArgumentTypeError, match='WIDTHxHEIGHT'):
        tool.parse_shape('1080p')


class FakeClock:
    """``time`` for the tool: the n-th timed forward lasts ``durations[n]``
    seconds (``perf_counter`` is called at its start and at its end)."""

    def __init__(self, durations):
        self.durations = list(durations)
        self.now, self.running = 0.0, False

    def perf_counter(self):
        if self.running:
            self.now += self.durations.pop(0)
        self.running = not self.running
        return self.now


def test_table_with_ratio_to_restormer(tool, configs, tmp_path,
                                       monkeypatch):
    # medians 0.25 s, 0.5 s and 0.2 s per 64x64 image (0.004096 MP); runs
    # interleaved: repeat 1 of every model, then repeat 2, ...
    clock = FakeClock([0.25, 1.0, 0.1, 0.5, 0.5, 0.2, 0.125, 0.5, 0.3])
    monkeypatch.setattr(tool, 'time', clock)
    out = str(tmp_path / 'speed')
    rows = tool.main([
        configs['unirain'], configs['restormer'], configs['nafnet'],
        '--shapes', '64x64', '--tile', '32', '--overlap', '8', '--warmup',
        '0', '--repeats', '3', '--threads', '1', '--no-subprocess', '--out',
        out
    ])
    assert not clock.durations  # every forward was timed once
    assert [r['model'] for r in rows] == ['UniRainNet', 'Restormer', 'NAFNet']
    expected = [(0.25, 4.0, 61035.15625, 0.5), (0.5, 2.0, 122070.3125, 1.0),
                (0.2, 5.0, 48828.125, 0.4)]
    for row, (seconds, per_s, ms_per_mp, ratio) in zip(rows, expected):
        assert row['tiled'] and (row['height'], row['width']) == (64, 64)
        assert row['seconds'] == pytest.approx(seconds)
        assert row['images_per_s'] == pytest.approx(per_s)
        assert row['ms_per_mp'] == pytest.approx(ms_per_mp)
        assert row['ms_per_mp_ratio'] == pytest.approx(ratio)
        assert row['peak_mb'] is None  # not measured in-process on the CPU
    with open(out + '.json') as f:
        saved = json.load(f)
    assert saved['rows'] == rows  # floats survive JSON exactly
    assert saved['meta']['repeats'] == 3
    md = open(out + '.md').read()
    assert 'ms/MP vs restormer_tiny' in md
    assert '| restormer_tiny | Restormer | pytorch fp32 auto malloc=keep |' \
        in md
    assert '| 4 | 61035.2 | 0.500 |' in md


def test_cpu_peak_memory_from_a_fresh_process(tool, configs, tmp_path):
    (row, ) = tool.main([
        configs['restormer'], '--shapes', '32x32', '--warmup', '0',
        '--repeats', '1', '--out', str(tmp_path / 'speed')
    ])
    assert not row['tiled']
    assert row['peak_mb'] >= row['base_mb'] > 0
    assert row['ms_per_mp_ratio'] == pytest.approx(1.0)


def test_variants_parse_and_name_bad_settings(tool):
    v = tool.parse_variant('old=a.py,malloc=default,channels_last=0')
    assert (v['name'], v['config'], v['malloc'], v['channels_last'],
            v['dtype'], v['backend']) == ('old', 'a.py', 'default', False,
                                          'fp32', 'pytorch')
    with pytest.raises(argparse.ArgumentTypeError, match="unknown .*'mallok'"):
        tool.parse_variant('x=a.py,mallok=keep')
    with pytest.raises(argparse.ArgumentTypeError, match='dtype must be'):
        tool.parse_variant('x=a.py,dtype=int8')
    with pytest.raises(argparse.ArgumentTypeError, match='onnx=PATH'):
        tool.parse_variant('x=a.py,backend=onnxruntime')
    with pytest.raises(argparse.ArgumentTypeError, match='NAME=CONFIG'):
        tool.parse_variant('a.py')
    with pytest.raises(SystemExit):
        tool.parse_args(['--variant', 'x=a.py,backend=onnxruntime,onnx=m',
                         '--train-step'])


def test_variants_in_worker_processes_and_train_step(tool, configs,
                                                     tmp_path):
    """Two settings of one model, each in its own process, interleaved; and
    a training step in-process."""
    rows = tool.main([
        '--variant', f"keep={configs['unirain']}",
        '--variant', f"default={configs['unirain']},malloc=default,"
        'channels_last=0', '--reference', 'default', '--shapes', '32x32',
        '--warmup', '0', '--repeats', '2', '--out', str(tmp_path / 'v')
    ])
    assert [r['variant'] for r in rows] == ['keep', 'default']
    assert [r['settings']['malloc'] for r in rows] == ['keep', 'default']
    assert all(len(r['seconds_all']) == 2 and r['peak_mb'] > 0
               for r in rows)
    assert rows[1]['ms_per_mp_ratio'] == pytest.approx(1.0)
    (row, ) = tool.main([
        configs['unirain'], '--train-step', '--batch', '2', '--shapes',
        '32x32', '--warmup', '0', '--repeats', '1', '--no-subprocess',
        '--out', str(tmp_path / 't')
    ])
    assert row['images_per_s'] == pytest.approx(2 / row['seconds'])
