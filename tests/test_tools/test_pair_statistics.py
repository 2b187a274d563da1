"""tools/analysis/pair_statistics.py: offset, changed pixels and texture."""
import cv2
import numpy as np
import pytest

from conftest import import_tool

tool = import_tool('analysis/pair_statistics')


@pytest.fixture
def target():
    """A textured mid-grey image (uniform noise around 100)."""
    rng = np.random.default_rng(0)
    return rng.integers(80, 121, (64, 64, 3)).astype(np.uint8)


def test_global_offset_moves_mean_and_median(target):
    stats = tool.pair_stats(target + np.uint8(10), target)
    assert stats['offset'] == pytest.approx(10.0)
    assert stats['median'] == pytest.approx(10.0)
    assert stats['changed'] == 1.0
    assert stats['texture'] == pytest.approx(1.0)


def test_sparse_rain_moves_mean_not_median(target):
    rainy = target.copy()
    rainy[::10] = 255  # 7 of 64 rows
    stats = tool.pair_stats(rainy, target)
    assert stats['median'] == 0.0
    assert stats['changed'] == pytest.approx(7 / 64)
    assert stats['offset'] > 5
    assert stats['texture'] > 1.0


def test_smoothing_lowers_texture(target):
    smooth = cv2.GaussianBlur(target, (0, 0), 2)
    assert tool.pair_stats(smooth, target)['texture'] < 0.5
    with pytest.raises(ValueError, match='shapes differ'):
        tool.pair_stats(smooth[:10], target)


def _write(folder, images):
    folder.mkdir()
    for name, img in images.items():
        cv2.imwrite(str(folder / f'{name}.png'), img[..., ::-1])
    return str(folder)


def test_folders_table_and_csv(tmp_path, target, capsys):
    tgt = _write(tmp_path / 'target', {'a': target, 'b': target})
    brighter = _write(tmp_path / 'input',
                      {'a': target + np.uint8(4), 'b': target + np.uint8(6)})
    out = tmp_path / 'rows.csv'
    tool.main([tgt, brighter, '--csv', str(out)])
    table = capsys.readouterr().out
    assert 'table_and_csv0/input | 2 |' in table
    assert '5.000 [4.000, 6.000]' in table  # offset: mean [min, max]
    assert len(out.read_text().splitlines()) == 3


def test_missing_or_mismatched_images_are_named(tmp_path, target):
    tgt = _write(tmp_path / 'target', {'a': target, 'b': target})
    partial = _write(tmp_path / 'partial', {'a': target})
    with pytest.raises(SystemExit, match='lacks 1 image.*first: b'):
        tool.main([tgt, partial])
    small = _write(tmp_path / 'small', {'a': target[:32], 'b': target})
    with pytest.raises(SystemExit, match='small/a.png'):
        tool.main([tgt, small])
    with pytest.raises(SystemExit):
        tool.main([tgt])  # nothing to compare


def test_synthetic_night_pairs(tmp_path, capsys):
    from skimage import data
    photos = _write(tmp_path / 'photos', {
        'astronaut': cv2.resize(data.astronaut(), (96, 96)),
        'coffee': cv2.resize(data.coffee(), (96, 96))})
    tool.main(['--synthesize', 'NRS', '--photos', photos, '--num', '3',
               '--size', '96'])
    assert '| synthetic NRS | 3 |' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no \\*.png photos'):
        tool.main(['--synthesize', 'NRS', '--photos', str(tmp_path)])


def test_folders_with_the_same_ending_get_distinct_labels(tmp_path, target,
                                                          capsys):
    tgt = _write(tmp_path / 'target', {'a': target})
    for run in ('run1', 'run2'):
        (tmp_path / run / 'images').mkdir(parents=True)
        _write(tmp_path / run / 'images' / 'night', {'a': target})
    tool.main([tgt, str(tmp_path / 'run1/images/night'),
               str(tmp_path / 'run2/images/night')])
    table = capsys.readouterr().out
    assert '| run1/images/night | 1 |' in table
    assert '| run2/images/night | 1 |' in table
