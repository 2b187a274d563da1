import os
import shutil

import pytest

from unirain_mm.datasets.benchmarks import BENCHMARKS
from mmengine.config import Config

from unirain_mm.evaluation import (BENCHMARK_GROUPS, apply_protocol,
                                   benchmark_dir, benchmark_location,
                                   benchmark_metrics, benchmark_test_cfg,
                                   resolve_benchmarks)
from unirain_mm.evaluation import benchmark_cfg
from unirain_mm.rain_types import RAIN_TYPES


@pytest.fixture
def root(pair_tree, tmp_path):
    """The tiny type splits plus a converted Rain100H."""
    root = tmp_path / 'data'
    shutil.copytree(os.path.join(pair_tree, 'test'), root / 'test')
    shutil.copytree(root / 'test' / 'DRS', root / 'Rain100H' / 'DRS')
    return str(root)


def test_groups_cover_every_benchmark_once():
    assert len(BENCHMARK_GROUPS['all']) == 4 + 13
    parts = [n for g in ('types', 'real', 'classic')
             for n in BENCHMARK_GROUPS[g]]
    assert sorted(parts) == sorted(BENCHMARK_GROUPS['all'])
    for name in parts:
        benchmark_location(name)  # every member is a known benchmark


def test_locations():
    assert benchmark_location('NRD') == ('test', 'NRD')
    assert benchmark_location('RainDrop-test_a') == ('RainDrop-test_a', 'DRD')
    assert benchmark_dir('d', 'GTAV-NightRain') == os.path.join(
        'd', 'GTAV-NightRain', BENCHMARKS['GTAV-NightRain'])
    with pytest.raises(ValueError, match='unknown benchmark .Rain100X.*'
                       'Rain100H.*groups: all.*<name>:<type>'):
        benchmark_location('Rain100X')
    assert benchmark_location('HQ-NightRain-RS:nrs') == ('HQ-NightRain-RS',
                                                         'NRS')
    with pytest.raises(ValueError, match='unknown rain type'):
        benchmark_location('Mine:XYZ')


def test_named_benchmark_must_exist(root):
    assert resolve_benchmarks(['Rain100H', 'DRS', 'Rain100H'],
                              root) == ['Rain100H', 'DRS']
    with pytest.raises(FileNotFoundError) as err:
        resolve_benchmarks(['Test100'], root)
    assert os.path.join(root, 'Test100', 'DRS') in str(err.value)
    assert 'tools/dataset_converters' in str(err.value)


def test_groups_skip_missing_benchmarks_with_a_message(root, monkeypatch):
    messages = []
    monkeypatch.setattr(benchmark_cfg, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    assert resolve_benchmarks(['all'], root) == list(RAIN_TYPES) + [
        'Rain100H']
    assert len(messages) == 12
    assert any(os.path.join(root, 'Test2800', 'DRS') in m for m in messages)
    with pytest.raises(FileNotFoundError, match='none of the benchmarks'):
        resolve_benchmarks(['real'], root)


def test_any_converted_set_as_name_and_type(root):
    cfg = benchmark_test_cfg(['Rain100H:DRS'], root)
    (loader, ) = cfg['test_dataloader']
    assert loader['dataset']['split'] == 'Rain100H'
    assert {m['prefix'] for m in cfg['test_evaluator'][0]} == {'Rain100H'}
    with pytest.raises(FileNotFoundError, match='Mine'):
        resolve_benchmarks(['Mine:NRS'], root)


def test_test_cfg_has_one_prefixed_evaluator_per_loader(root):
    cfg = benchmark_test_cfg(['Rain100H', 'types'], root, num_workers=0)
    assert cfg['test_cfg'] == dict(type='MultiTestLoop')
    loaders, evaluators = cfg['test_dataloader'], cfg['test_evaluator']
    assert len(loaders) == len(evaluators) == 5
    first = loaders[0]
    assert first['batch_size'] == 1 and first['num_workers'] == 0
    assert first['dataset']['split'] == 'Rain100H'
    assert first['dataset']['rain_types'] == ['DRS']
    assert loaders[4]['dataset']['split'] == 'test'
    assert loaders[4]['dataset']['rain_types'] == ['NRD']
    assert evaluators[0] == benchmark_metrics('Rain100H')
    assert {m['prefix'] for m in evaluators[4]} == {'NRD'}
    assert {m['type'] for m in evaluators[0]} == {
        'PSNRY', 'SSIMY', 'PSNRRGB', 'LPIPS', 'InputPSNRY', 'InputSSIMY',
        'InputPSNRRGB'}


def test_same_folder_once_and_distinct_prefixes(root, pair_tree):
    shutil.copytree(os.path.join(pair_tree, 'val'), os.path.join(root, 'val'))
    names = ['Rain100H', 'Rain100H:DRS', 'val:DRS', 'val:NRD', 'DRS',
             'test:DRS']
    assert resolve_benchmarks(names, root) == [
        'Rain100H', 'val:DRS', 'val:NRD', 'DRS']
    cfg = benchmark_test_cfg(names, root)
    prefixes = [{m['prefix'] for m in e} for e in cfg['test_evaluator']]
    # MultiTestLoop refuses repeated prefixes, so one name tested with two
    # types gets the type in its prefix
    assert prefixes == [{'Rain100H'}, {'val-DRS'}, {'val-NRD'}, {'DRS'}]


def _types(steps):
    return [step['type'] for step in steps]


def test_authors_protocol_on_benchmarks(root):
    cfg = Config(benchmark_test_cfg(['Rain100H', 'DRD'], root))
    before = cfg.to_dict()
    apply_protocol(cfg, 'mmagic')
    assert cfg.to_dict() == before
    apply_protocol(cfg, 'authors')
    for loader in cfg.test_dataloader:
        steps = loader['dataset']['pipeline']
        assert _types(steps) == ['LoadRainPair', 'CropToMultiple',
                                 'PackInputs']
        assert steps[1]['base'] == 16 and steps[1]['keys'] == ['img', 'gt']
    assert cfg.test_evaluator[1] == [
        dict(type=name, prefix='DRD')
        for name in ('PSNRRGB', 'SSIMpyiqa', 'LPIPS', 'InputPSNRRGB',
                     'InputSSIMpyiqa')]
    apply_protocol(cfg, 'authors')  # applying twice crops once
    assert _types(cfg.test_dataloader[0]['dataset']['pipeline']).count(
        'CropToMultiple') == 1


def test_authors_protocol_on_a_config_and_errors(pair_tree, tmp_path):
    from conftest import tiny_config
    cfg = tiny_config(pair_tree, str(tmp_path))
    scores_input = ['InputPSNRY' in _types(m) for m in cfg.test_evaluator]
    apply_protocol(cfg, 'authors')
    assert len(cfg.test_evaluator) == len(cfg.test_dataloader)
    for loader, metrics, inputs in zip(cfg.test_dataloader,
                                       cfg.test_evaluator, scores_input):
        assert 'CropToMultiple' in _types(loader['dataset']['pipeline'])
        prefix = loader['dataset']['rain_types'][0]
        expected = ['PSNRRGB', 'SSIMpyiqa', 'LPIPS'] + (
            ['InputPSNRRGB', 'InputSSIMpyiqa'] if inputs else [])
        assert [(m['type'], m['prefix']) for m in metrics] == [
            (name, prefix) for name in expected]
    # a single loader with an Evaluator dict
    single = Config(dict(
        test_dataloader=dict(dataset=dict(pipeline=[dict(
            type='PackInputs')])),
        test_evaluator=dict(type='Evaluator', metrics=[dict(type='PSNR')])))
    apply_protocol(single, 'authors')
    assert _types(single.test_dataloader.dataset.pipeline) == [
        'CropToMultiple', 'PackInputs']
    assert _types(single.test_evaluator['metrics']) == [
        'PSNRRGB', 'SSIMpyiqa', 'LPIPS']
    with pytest.raises(ValueError, match="unknown protocol 'paper'"):
        apply_protocol(cfg, 'paper')
    single.test_dataloader.dataset.pipeline = [dict(type='LoadRainPair')]
    with pytest.raises(ValueError, match='no PackInputs'):
        apply_protocol(single, 'authors')
