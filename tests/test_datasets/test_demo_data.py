"""Tests of the deterministic demo dataset generator."""
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from unirain_mm.datasets import demo_data
from unirain_mm.datasets.rain_synthesis import RAIN_TYPES

SMALL = dict(num_train=2, num_test=1, num_val=1, size=64, progress=False)


def _files(root):
    """Relative path -> bytes of every file under ``root``."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


@pytest.fixture(scope='module')
def small_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('demo') / 'data')
    summary = demo_data.generate_demo_data(root, seed=0, **SMALL)
    return root, summary


def test_clean_photos_are_bundled_rgb():
    photos = demo_data.clean_photos()
    assert set(photos) == {
        'astronaut', 'chelsea', 'coffee', 'rocket', 'motorcycle_left',
        'motorcycle_right', 'hubble_deep_field', 'ihc', 'retina'
    }
    for name, img in photos.items():
        assert img.dtype == np.uint8 and img.ndim == 3, name
        assert img.shape[2] == 3 and min(img.shape[:2]) >= 256, name
    # callers get their own copies
    photos['astronaut'][:] = 0
    assert demo_data.clean_photos()['astronaut'].any()


def test_split_photos_are_disjoint():
    split = demo_data.split_photos()
    # the nine scikit-image photos: two held out for testing, seven to train
    # and validate on (other crops of the same photos)
    assert sorted(split['test']) == ['chelsea', 'coffee']
    assert sorted(split['train']) == sorted(split['val']) == [
        'astronaut', 'hubble_deep_field', 'ihc', 'motorcycle_left',
        'motorcycle_right', 'retina', 'rocket']


def test_layout_and_summary(small_root):
    root, summary = small_root
    expected = {'train': 2, 'test': 1}
    assert osp.isfile(osp.join(root, demo_data.META_FILE))
    for split, count in expected.items():
        for code in RAIN_TYPES:
            inputs = sorted(os.listdir(osp.join(root, split, code, 'input')))
            targets = sorted(
                os.listdir(osp.join(root, split, code, 'target')))
            assert inputs == targets
            assert inputs == [
                f'{code.lower()}_{split}_{i:04d}.png' for i in range(count)
            ]
            for name in inputs:
                rainy = cv2.imread(osp.join(root, split, code, 'input', name))
                clean = cv2.imread(
                    osp.join(root, split, code, 'target', name))
                assert rainy.shape == clean.shape == (64, 64, 3)
                assert not np.array_equal(rainy, clean)
            assert summary['counts'][split][code] == count
            assert 12.0 < summary['psnr'][split][code] < 40.0
    assert sorted(os.listdir(root)) == ['demo_meta.json', 'test', 'train',
                                       'val']
    assert summary['root'] == osp.abspath(root)
    assert summary['params']['seed'] == 0


def test_byte_deterministic(small_root, tmp_path):
    root, summary = small_root
    again = demo_data.generate_demo_data(str(tmp_path / 'again'), seed=0,
                                         **SMALL)
    assert _files(root) == _files(str(tmp_path / 'again'))
    assert again['psnr'] == summary['psnr']
    other = demo_data.generate_demo_data(str(tmp_path / 'other'), seed=1,
                                         **SMALL)
    a, b = _files(root), _files(str(tmp_path / 'other'))
    assert a.keys() == b.keys()
    assert sum(a[k] != b[k] for k in a) > len(a) // 2
    assert other['psnr'] != summary['psnr']


def test_idempotent_with_same_params(small_root, monkeypatch):
    root, summary = small_root
    stamps = {
        k: os.stat(osp.join(root, k)).st_mtime_ns
        for k in _files(root)
    }

    def fail(*args, **kwargs):
        raise AssertionError('should not regenerate')

    monkeypatch.setattr(demo_data, '_generate_into', fail)
    again = demo_data.generate_demo_data(root, seed=0, **SMALL)
    assert again == summary
    assert stamps == {
        k: os.stat(osp.join(root, k)).st_mtime_ns
        for k in _files(root)
    }


def test_mismatched_params_raise_then_overwrite(tmp_path):
    root = str(tmp_path / 'data')
    demo_data.generate_demo_data(root, seed=0, **SMALL)
    with pytest.raises(FileExistsError, match=re.escape(str(root))):
        demo_data.generate_demo_data(root, seed=3, **SMALL)
    with pytest.raises(FileExistsError, match='overwrite'):
        demo_data.generate_demo_data(root, seed=0, num_train=3, num_test=1,
                                     size=64, progress=False)
    summary = demo_data.generate_demo_data(root, seed=3, overwrite=True,
                                           **SMALL)
    assert summary['params']['seed'] == 3
    with open(osp.join(root, demo_data.META_FILE)) as f:
        assert json.load(f)['params']['seed'] == 3
    assert os.listdir(tmp_path) == ['data']  # no temp/old dirs left


def test_foreign_directory_is_not_clobbered(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'mine.txt').write_text('precious')
    with pytest.raises(FileExistsError, match=re.escape(str(root))):
        demo_data.generate_demo_data(str(root), **SMALL)
    assert (root / 'mine.txt').read_text() == 'precious'
    # an empty directory is fine to fill
    empty = tmp_path / 'empty'
    empty.mkdir()
    demo_data.generate_demo_data(str(empty), **SMALL)
    assert (empty / demo_data.META_FILE).is_file()


class _Boom(RuntimeError):
    pass


def _failing_writer(monkeypatch, after):
    calls = []
    real = demo_data._write_png

    def writer(path, img):
        calls.append(path)
        if len(calls) > after:
            raise _Boom('simulated crash')
        real(path, img)

    monkeypatch.setattr(demo_data, '_write_png', writer)
    return calls


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    parent = tmp_path / 'parent'
    calls = _failing_writer(monkeypatch, after=5)
    with pytest.raises(_Boom):
        demo_data.generate_demo_data(str(parent / 'data'), **SMALL)
    assert len(calls) == 6
    assert not (parent / 'data').exists()
    assert os.listdir(parent) == []  # no temporary directory either


def test_interrupted_overwrite_keeps_old_data(tmp_path, monkeypatch):
    root = tmp_path / 'data'
    demo_data.generate_demo_data(str(root), seed=0, **SMALL)
    before = _files(str(root))
    _failing_writer(monkeypatch, after=3)
    with pytest.raises(_Boom):
        demo_data.generate_demo_data(str(root), seed=5, overwrite=True,
                                     **SMALL)
    assert _files(str(root)) == before
    assert os.listdir(tmp_path) == ['data']


def test_train_and_test_crops_come_from_disjoint_photos(tmp_path,
                                                         monkeypatch):
    # Replace each photo by a flat, uniquely coloured image: the colour of
    # a clean day target then tells which photo it was cropped from.
    names = list(demo_data.clean_photos())
    colours = {n: (20 * i + 30, 200 - 15 * i, 90) for i, n in enumerate(names)}
    fake = {
        n: np.full((150, 170, 3), c, np.uint8)
        for n, c in colours.items()
    }
    monkeypatch.setattr(demo_data, 'clean_photos',
                        lambda: {k: v.copy() for k, v in fake.items()})
    root = str(tmp_path / 'data')
    demo_data.generate_demo_data(root, num_train=12, num_test=6, num_val=6,
                                 size=32, progress=False)
    by_colour = {c: n for n, c in colours.items()}
    used = {'train': set(), 'test': set(), 'val': set()}
    for split in used:
        for code in ('DRS', 'DRD'):
            folder = osp.join(root, split, code, 'target')
            for name in os.listdir(folder):
                rgb = cv2.imread(osp.join(folder, name))[..., ::-1]
                used[split].add(by_colour[tuple(int(v) for v in rgb[0, 0])])
    assert used['test'] <= set(demo_data.TEST_PHOTOS)
    assert not (used['train'] | used['val']) & set(demo_data.TEST_PHOTOS)
    assert len(used['train']) >= 4  # crops are spread over the photos
    # val: other crops (other files) of the train photos
    for code in ('DRS', 'DRD'):
        assert not set(os.listdir(osp.join(root, 'val', code, 'input'))) & \
            set(os.listdir(osp.join(root, 'train', code, 'input')))


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match='size'):
        demo_data.generate_demo_data(str(tmp_path / 'a'), size=8)
    with pytest.raises(ValueError, match='num_train'):
        demo_data.generate_demo_data(str(tmp_path / 'b'), num_train=-1)
    assert os.listdir(tmp_path) == []


def test_cli_prints_summary(tmp_path, capsys):
    root = str(tmp_path / 'cli')
    summary = demo_data.main([
        '--root', root, '--seed', '2', '--num-train', '1', '--num-test', '1',
        '--size', '32'
    ])
    out = capsys.readouterr().out
    for code in RAIN_TYPES:
        assert code in out
    assert 'PSNR' in out and root in out
    assert summary['params']['seed'] == 2
    assert summary['params']['size'] == 32
