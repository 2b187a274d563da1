"""PairedLmdbDataset: labels, filters, lazy per-process handles, errors."""
import multiprocessing as mp
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from unirain_mm.datasets import PairedLmdbDataset, RainTypeDataset
from unirain_mm.datasets import lmdb_io
from unirain_mm.datasets.lmdb_pack import pack_pairs
from unirain_mm.datasets.pairs import records_from_layout

from conftest import REPO_ROOT


@pytest.fixture(scope='module')
def packed(pair_tree, tmp_path_factory):
    root = str(tmp_path_factory.mktemp('lmdb'))
    pack_pairs(records_from_layout(pair_tree, 'train'), root, progress=False)
    return root


def test_samples_match_the_folder_dataset(packed, pair_tree):
    init_default_scope('mmagic')
    pipeline = [dict(type='LoadRainPair'), dict(type='PackInputs')]
    lmdb_ds = PairedLmdbDataset(packed, pipeline=pipeline)
    folder_ds = RainTypeDataset(pair_tree, split='train', pipeline=pipeline)
    assert len(lmdb_ds) == len(folder_ds) == 16
    for i in (0, 9):
        a, b = lmdb_ds[i], folder_ds[i]
        assert torch_equal(a['inputs'], b['inputs'])
        assert torch_equal(a['data_samples'].gt_img, b['data_samples'].gt_img)
        assert int(a['data_samples'].gt_label.label) == \
            int(b['data_samples'].gt_label.label)
    info = lmdb_ds.get_data_info(9)
    assert info['rain_type'] == 'NRS' and info['gt_label'] == 2
    assert info['source'] == os.path.basename(pair_tree)


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


def test_filters(packed, pair_tree):
    ds = PairedLmdbDataset(packed, rain_types=['DRD', 'NRD'])
    assert {ds.get_data_info(i)['rain_type'] for i in range(len(ds))} == {
        'DRD', 'NRD'}
    with pytest.raises(ValueError, match='no pairs in'):
        PairedLmdbDataset(packed, sources=['elsewhere'])


def test_unfinished_and_mismatched_databases(packed, tmp_path):
    with pytest.raises(FileNotFoundError, match='pack one with'):
        PairedLmdbDataset(str(tmp_path))
    (tmp_path / 'input.lmdb').mkdir()
    with pytest.raises(FileNotFoundError, match='unfinished'):
        PairedLmdbDataset(str(tmp_path))
    for db in ('input.lmdb', 'target.lmdb'):
        os.makedirs(tmp_path / 'm' / db)
        lines = open(os.path.join(packed, db, 'meta_info.txt')).readlines()
        if db == 'target.lmdb':
            lines = lines[:-1]
        (tmp_path / 'm' / db / 'meta_info.txt').write_text(''.join(lines))
    with pytest.raises(ValueError, match='list different keys'):
        PairedLmdbDataset(str(tmp_path / 'm'))


def _open_in_child(db_path, queue):
    env = lmdb_io.get_env(db_path)
    queue.put((id(env) == id(lmdb_io.get_env(db_path)),
               len(lmdb_io._ENVS), len(lmdb_io._INHERITED)))


def test_one_handle_per_process_reopened_after_fork(packed):
    db = os.path.join(packed, 'input.lmdb')
    parent = lmdb_io.get_env(db)
    assert lmdb_io.get_env(db + '/') is parent  # same file, one handle
    queue = mp.get_context('fork').Queue()
    proc = mp.get_context('fork').Process(target=_open_in_child,
                                          args=(db, queue))
    proc.start()
    same, num_open, num_inherited = queue.get(timeout=60)
    proc.join()
    assert same and num_open == 1 and num_inherited >= 1


def test_missing_record_names_the_key(packed, tmp_path):
    init_default_scope('mmagic')
    ds = PairedLmdbDataset(packed, pipeline=[dict(type='LoadRainPair')],
                           test_mode=True)
    info = ds.get_data_info(0)
    info['key'] = 'not_in_db'
    with pytest.raises(ValueError, match='not_in_db: input image not found'):
        ds.pipeline(info)


def test_mmagic_pipeline_with_crop_and_flips(packed):
    init_default_scope('mmagic')
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                   'datasets', 'unirain_4types.py'))
    pipeline = cfg.train_pipeline
    for step in pipeline:
        if step.type == 'PairedRandomCrop':
            step.gt_patch_size = 24
    ds = PairedLmdbDataset(packed, pipeline=pipeline)
    out = ds[3]
    assert tuple(out['inputs'].shape) == (3, 24, 24)
    assert np.isfinite(out['inputs'].numpy()).all()
