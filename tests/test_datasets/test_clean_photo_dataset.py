"""CleanPhotoDataset and the online-synthesis pipeline of UniRain-S."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from conftest import REPO_ROOT
from unirain_mm.datasets import CleanPhotoDataset

S_CONFIG = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_s_synth.py')


def _photos(root, names, size=(300, 400)):
    rng = np.random.default_rng(0)
    for name in names:
        img = rng.integers(0, 256, size + (3, ), dtype=np.uint8)
        cv2.imwrite(osp.join(root, name), img)


def test_folder_without_manifest_lists_images_only(tmp_path):
    _photos(tmp_path, ['b.png', 'a.jpg'])
    (tmp_path / 'notes.txt').write_text('not an image')
    ds = CleanPhotoDataset(str(tmp_path), exclude=['a.*'])
    assert [d['key'] for d in ds] == ['b']
    assert ds[0]['gt_path'] == osp.join(str(tmp_path), 'b.png')


def test_manifest_decides_and_a_listed_missing_file_is_an_error(tmp_path):
    _photos(tmp_path, ['x.png', 'stray.png'])
    manifest = [dict(file='x.png', source='pkg')]
    (tmp_path / 'manifest.json').write_text(json.dumps(manifest))
    ds = CleanPhotoDataset(str(tmp_path))
    assert [(d['key'], d['source']) for d in ds] == [('x', 'pkg')]
    manifest.append(dict(file='gone.png', source='pkg'))
    (tmp_path / 'manifest.json').write_text(json.dumps(manifest))
    with pytest.raises(FileNotFoundError, match='gone.png'):
        CleanPhotoDataset(str(tmp_path))
    (tmp_path / 'manifest.json').write_text('{"file": "x.png"}')
    with pytest.raises(ValueError, match='manifest.json'):
        CleanPhotoDataset(str(tmp_path))


def test_missing_or_empty_folder_says_how_to_collect(tmp_path):
    with pytest.raises(FileNotFoundError, match='collect_clean_photos'):
        CleanPhotoDataset(str(tmp_path / 'none'))
    _photos(tmp_path, ['only.png'])
    with pytest.raises(ValueError, match='collect_clean_photos'):
        CleanPhotoDataset(str(tmp_path), exclude=['only.*'])


def test_unirain_s_pipeline_makes_typed_pairs(tmp_path):
    """The config's own training pipeline turns one photo into 128 px
    rainy/clean pairs of every type, with the demo's test photos left out."""
    _photos(tmp_path, ['photo.png', 'skimage__chelsea.png'], (500, 700))
    cfg = Config.fromfile(S_CONFIG)
    ds_cfg = cfg.train_dataloader.dataset
    assert 'skimage__chelsea.png' not in [
        d['gt_path'] for d in CleanPhotoDataset(str(tmp_path),
                                                exclude=ds_cfg.exclude)]
    ds = CleanPhotoDataset(str(tmp_path), exclude=ds_cfg.exclude,
                           pipeline=ds_cfg.pipeline)
    np.random.seed(0)
    types = set()
    for _ in range(12):
        sample = ds[0]
        inputs, data = sample['inputs'], sample['data_samples']
        assert tuple(inputs.shape) == (3, 128, 128)
        assert tuple(data.gt_img.shape) == (3, 128, 128)
        assert not np.array_equal(inputs.numpy(), data.gt_img.numpy())
        types.add(int(data.gt_label.label))
    assert types == {0, 1, 2, 3}  # DRS, DRD, NRS, NRD
