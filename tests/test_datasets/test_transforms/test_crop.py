import numpy as np
import pytest

from unirain_mm.datasets.transforms import CropToMultiple


def _coords(h, w):
    """(H, W, 3) int array whose pixel (r, c) holds r * 1000 + c."""
    grid = np.arange(h)[:, None] * 1000 + np.arange(w)[None, :]
    return np.repeat(grid[..., None], 3, axis=2)


def test_keeps_the_centre():
    # 37 rows: 5 extra, 2 off the top, 3 off the bottom -> rows 2..33;
    # 50 columns: 2 extra, 1 off each side -> columns 1..48
    img, gt = _coords(37, 50), _coords(37, 50) + 7
    out = CropToMultiple(base=16)(dict(img=img, gt=gt, img_shape=(37, 50)))
    assert out['img'].shape == (32, 48, 3) and out['gt'].shape == (32, 48, 3)
    assert out['img'][0, 0, 0] == 2 * 1000 + 1
    assert out['img'][-1, -1, 0] == 33 * 1000 + 48
    assert (out['gt'] == out['img'] + 7).all()
    assert out['img_shape'] == (32, 48, 3)


def test_multiples_are_unchanged_and_small_images_fail():
    img = _coords(32, 16)
    out = CropToMultiple()(dict(img=img, gt=img.copy()))
    assert (out['img'] == img).all()
    with pytest.raises(ValueError, match='gt of a.png is 15x40'):
        CropToMultiple()(dict(img=_coords(32, 40), gt=_coords(15, 40),
                              img_path='a.png'))
    with pytest.raises(ValueError, match='base must be >= 1'):
        CropToMultiple(base=0)
