"""LoadRainPair: the bad-data policy inside a real dataset."""
import shutil

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from unirain_mm.datasets import RainTypeDataset
from unirain_mm.datasets.bad_data import BadPairError
from unirain_mm.datasets.transforms import LoadRainPair


@pytest.fixture
def tree(pair_tree, tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(pair_tree, root)
    return root


def loader_of(root, rain_types=('DRS', ), **kwargs):
    init_default_scope('mmagic')
    return RainTypeDataset(str(root), split='train', rain_types=rain_types,
                           pipeline=[dict(type='LoadRainPair', **kwargs)],
                           **({'test_mode': True} if kwargs.pop('test', 0)
                              else {}))


def test_outputs_like_mmagic_loader(pair_tree):
    ds = loader_of(pair_tree)
    out = ds[0]
    expected = cv2.imread(ds.get_data_info(0)['img_path'])[..., ::-1]
    assert np.array_equal(out['img'], expected)
    assert out['img_channel_order'] == out['gt_channel_order'] == 'rgb'
    assert out['ori_gt_shape'] == (32, 32, 3)


def test_corrupt_pair_is_skipped_and_counted(tree):
    (tree / 'train' / 'DRS' / 'input' / 'drs_train_001.png').write_bytes(
        b'\x89PNG broken')
    ds = loader_of(tree)
    logger = MMLogger.get_instance('test_loading_skip')
    messages = []
    logger.warning = messages.append  # the transform logs to this instance
    out = ds[1]  # refetched: another, valid pair
    assert not out['img_path'].endswith('drs_train_001.png')
    # the refetch may draw the corrupt pair again: each draw is logged
    step = ds.pipeline.transforms[0]
    assert len(messages) == step.num_skipped >= 1
    assert all('drs_train_001: input image cannot be decoded' in m
               for m in messages)
    assert f'{step.num_skipped} skipped so far' in messages[-1]
    with pytest.raises(BadPairError, match='drs_train_001: input image '
                       'cannot be decoded'):
        loader_of(tree, policy=dict(corrupt='error'))[1]


def test_size_mismatch_fails_by_default_names_key(tree):
    path = tree / 'train' / 'DRS' / 'target' / 'drs_train_002.png'
    cv2.imwrite(str(path), np.zeros((30, 32, 3), np.uint8))
    with pytest.raises(BadPairError, match=r'drs_train_002: input is 32x32 '
                       r'but target is 32x30'):
        loader_of(tree)[2]
    out = loader_of(tree, policy=dict(size_mismatch='crop'))[2]
    assert out['img'].shape == out['gt'].shape == (30, 32, 3)


def test_gray_rgba_16bit_become_rgb8(tree):
    folder = tree / 'train' / 'DRS'
    gray = cv2.imread(str(folder / 'input' / 'drs_train_000.png'), 0)
    cv2.imwrite(str(folder / 'input' / 'drs_train_000.png'), gray)
    rgba = cv2.cvtColor(cv2.imread(str(folder / 'target' /
                                       'drs_train_000.png')),
                        cv2.COLOR_BGR2BGRA)
    cv2.imwrite(str(folder / 'target' / 'drs_train_000.png'), rgba)
    deep = cv2.imread(str(folder / 'input' / 'drs_train_003.png'))
    cv2.imwrite(str(folder / 'input' / 'drs_train_003.png'),
                deep.astype(np.uint16) * 257)
    ds = loader_of(tree)
    out = ds[0]
    assert out['img'].shape == out['gt'].shape == (32, 32, 3)
    assert (out['img'][..., 0] == out['img'][..., 1]).all()
    assert np.array_equal(out['gt'], rgba[..., 2::-1])
    assert np.array_equal(ds[3]['img'], deep[..., ::-1])


def test_small_pairs_are_padded_to_the_crop(pair_tree):
    out = loader_of(pair_tree, min_size=40)[0]
    assert out['img'].shape == out['gt'].shape == (40, 40, 3)
    with pytest.raises(BadPairError, match='smaller than the crop 40x40'):
        loader_of(pair_tree, min_size=40, policy=dict(too_small='error'))[0]


def test_repr():
    assert 'min_size=8' in repr(LoadRainPair(min_size=8))
