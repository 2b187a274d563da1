"""RainTypeDataset: layout scanning, labels and clear errors."""
import os

import pytest
from mmengine.registry import init_default_scope

from unirain_mm.datasets import RainTypeDataset


def test_pairs_and_labels(pair_tree):
    ds = RainTypeDataset(pair_tree, split='train')
    assert len(ds) == 16
    labels = [ds.get_data_info(i)['gt_label'] for i in range(len(ds))]
    assert labels == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    info = ds.get_data_info(9)
    assert info['rain_type'] == 'NRS'
    assert info['img_path'].endswith(os.path.join('NRS', 'input',
                                                  'nrs_train_001.png'))
    assert info['gt_path'] == info['img_path'].replace('input', 'target')
    source = os.path.basename(pair_tree)
    assert info['source'] == source
    assert info['key'] == f'{source}_NRS_nrs_train_001'


def test_subset_keeps_global_type_ids(pair_tree):
    ds = RainTypeDataset(pair_tree, split='test', rain_types=['NRD'])
    assert {ds.get_data_info(i)['gt_label'] for i in range(len(ds))} == {3}


def test_pipeline_packs_gt_label(pair_tree):
    init_default_scope('mmagic')
    ds = RainTypeDataset(
        pair_tree,
        split='test',
        rain_types=['DRD'],
        pipeline=[
            dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
            dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
            dict(type='PackInputs')
        ])
    packed = ds[0]
    assert packed['inputs'].shape == (3, 32, 32)
    assert packed['data_samples'].gt_label.label.tolist() == [1]


def test_errors_name_the_problem(pair_tree, tmp_path):
    with pytest.raises(ValueError, match='XYZ'):
        RainTypeDataset(pair_tree, rain_types=['XYZ'])
    with pytest.raises(FileNotFoundError, match='valid.*DRS.*input'):
        RainTypeDataset(pair_tree, split='valid')
    root = tmp_path / 'broken'
    for sub in ('input', 'target'):
        (root / 'train' / 'DRS' / sub).mkdir(parents=True)
    (root / 'train' / 'DRS' / 'input' / 'a.png').write_bytes(b'x')
    with pytest.raises(FileNotFoundError, match='no clean image.*a.png'):
        RainTypeDataset(str(root), rain_types=['DRS'])
