"""One data root: every loader of a config moves with ``data_root``."""
import os.path as osp

import pytest
from mmengine.config import Config

from unirain_mm.datasets.data_root import (dataset_configs, rain_type_loader,
                                           relocate, set_data_root)

from conftest import REPO_ROOT, import_tool

DEMO = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_demo_cpu.py')
PAPER = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_all.py')


def _roots(cfg):
    """``{loader: [dataset roots]}`` of the config's loaders."""
    roots = {}
    for where, dataset in dataset_configs(cfg):
        roots.setdefault(where, []).append(dataset['data_root'])
    return roots


def _expected(train, evaluation):
    roots = {'train_dataloader': [train]}
    for key in ('val_dataloader', 'test_dataloader'):
        roots.update({f'{key}[{i}]': [evaluation] for i in range(4)})
    return roots


def test_relocate():
    assert relocate('data/demo', 'data/demo', '/x') == '/x'
    assert relocate('data/demo/lmdb/train', 'data/demo/', '/x') == \
        osp.join('/x', 'lmdb', 'train')
    assert relocate('data/demo_lmdb/train', 'data/demo', '/x') is None
    assert relocate('data', 'data/demo', '/x') is None
    assert relocate(osp.abspath('data/demo/val'), 'data/demo', 'y') == \
        osp.join('y', 'val')


def test_the_base_loaders_are_the_helpers():
    cfg = Config.fromfile(PAPER)
    for key, split in (('val_dataloader', 'val'), ('test_dataloader',
                                                   'test')):
        assert [loader.to_dict() for loader in cfg[key]] == [
            rain_type_loader('data/unirain', split, t, cfg.test_pipeline)
            for t in ('DRS', 'DRD', 'NRS', 'NRD')]


def test_a_config_that_only_sets_data_root_moves_inherited_loaders():
    cfg = Config.fromfile(DEMO)
    # as written, the inherited per-type loaders still name the base's root
    assert cfg.val_dataloader[0].dataset.data_root == 'data/unirain'
    assert set_data_root(cfg) == []
    assert _roots(cfg) == _expected('data/demo/lmdb/train', 'data/demo')
    assert cfg.loaders_root == cfg.data_root == 'data/demo'


def _load(tool, argv):
    """The config as ``tools/<tool>.py`` builds it from ``argv``."""
    from unirain_mm.tool_utils import load_config
    module = import_tool(tool)
    args = module.parse_args(argv)
    return module.build_config(args) if tool == 'train' else \
        load_config(args)


@pytest.mark.parametrize('config', [DEMO, PAPER],
                         ids=lambda p: osp.basename(p))
@pytest.mark.parametrize('how', ['--data-root', '--cfg-options'])
@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_move_every_loader(tmp_path, config, how, tool):
    root = str(tmp_path / 'copy')
    argv = [config] + (['ckpt.pth'] if tool == 'test' else [])
    argv += [how, root if how == '--data-root' else f'data_root={root}']
    cfg = _load(tool, argv)
    assert _roots(cfg) == _expected(osp.join(root, 'lmdb', 'train'), root)
    assert cfg.data_root == root


def test_an_option_for_one_dataset_still_wins(tmp_path):
    cfg = _load('train', [
        DEMO, '--data-root', str(tmp_path), '--cfg-options',
        'val_dataloader.1.dataset.data_root=elsewhere', 'data_root=ignored'
    ])
    roots = _roots(cfg)
    assert roots.pop('val_dataloader[1]') == ['elsewhere']
    expected = _expected(osp.join(str(tmp_path), 'lmdb', 'train'),
                         str(tmp_path))
    expected.pop('val_dataloader[1]')
    assert roots == expected


def test_wrapped_and_outside_datasets():
    cfg = Config(dict(
        data_root='data/a',
        train_dataloader=dict(dataset=dict(
            type='ManifestSubset', manifest='m.jsonl',
            dataset=dict(type='ConcatDataset', datasets=[
                dict(type='PairedLmdbDataset', data_root='data/a/lmdb'),
                dict(type='PairedLmdbDataset', data_root='work_dirs/kept'),
            ]))),
        val_dataloader=None))
    assert set_data_root(cfg, '/b') == ['train_dataloader: work_dirs/kept']
    inner = cfg.train_dataloader.dataset.dataset.datasets
    assert [d.data_root for d in inner] == ['/b/lmdb', 'work_dirs/kept']
    assert 'loaders_root' not in cfg


def test_a_config_without_data_root_is_refused(tmp_path):
    with pytest.raises(ValueError, match='no data_root'):
        set_data_root(Config(dict(train_dataloader=dict())), str(tmp_path))
    path = tmp_path / 'bare.py'
    path.write_text("train_dataloader = dict(dataset=dict(data_root='x'))\n")
    with pytest.raises(SystemExit, match='bare.py: .*no data_root'):
        _load('train', [str(path), '--data-root', str(tmp_path)])
