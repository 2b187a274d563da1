"""Bad-data policy: every case has its documented action, never silence."""
import cv2
import numpy as np
import pytest

from unirain_mm.datasets.bad_data import (BadDataPolicy, BadPairError,
                                          SkipPair, decode_image,
                                          match_sizes, pad_to_size)


def png(arr: np.ndarray) -> bytes:
    return cv2.imencode('.png', arr)[1].tobytes()


def test_policy_rejects_unknown_cases_and_actions():
    with pytest.raises(ValueError, match='unknown bad-data cases'):
        BadDataPolicy.build(dict(corupt='skip'))
    with pytest.raises(ValueError, match="grayscale='pad'"):
        BadDataPolicy.build(dict(grayscale='pad'))


def test_color_png_decodes_to_rgb():
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 0] = 255  # blue in cv2's order
    rgb = decode_image(png(bgr), 'k', BadDataPolicy(), 'input')
    assert rgb.shape == (4, 5, 3) and rgb[0, 0].tolist() == [0, 0, 255]


@pytest.mark.parametrize('case,arr', [
    ('grayscale', np.full((4, 5), 7, np.uint8)),
    ('alpha', np.dstack([np.full((4, 5, 3), 7, np.uint8),
                         np.zeros((4, 5), np.uint8)])),
    ('high_bit_depth', np.full((4, 5, 3), 7 * 257, np.uint16)),
])
def test_conversions_and_their_alternatives(case, arr):
    out = decode_image(png(arr), 'k', BadDataPolicy(), 'input')
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3)
    assert (out == 7).all()
    with pytest.raises(SkipPair, match=case):
        decode_image(png(arr), 'k', BadDataPolicy(**{case: 'skip'}), 'input')
    with pytest.raises(BadPairError, match=f'k: .*{case}=error'):
        decode_image(png(arr), 'k', BadDataPolicy(**{case: 'error'}),
                     'input')


def test_corrupt_and_missing():
    with pytest.raises(SkipPair, match='key7: target image cannot be'):
        decode_image(b'not an image', 'key7', BadDataPolicy(), 'target')
    with pytest.raises(BadPairError, match='key7: input image not found'):
        decode_image(None, 'key7', BadDataPolicy(), 'input')
    with pytest.raises(SkipPair):
        decode_image(None, 'key7', BadDataPolicy(missing='skip'), 'input')


def test_size_mismatch():
    a, b = np.zeros((6, 8, 3), np.uint8), np.ones((5, 9, 3), np.uint8)
    with pytest.raises(BadPairError, match=r'k: input is 8x6 but target '
                       r'is 9x5'):
        match_sizes(a, b, 'k', BadDataPolicy())
    a2, b2 = match_sizes(a, b, 'k', BadDataPolicy(size_mismatch='crop'))
    assert a2.shape == b2.shape == (5, 8, 3)


def test_too_small_is_padded_alike():
    img = np.arange(3 * 4 * 3, dtype=np.uint8).reshape(3, 4, 3)
    a, b = pad_to_size(img, img.copy(), 6, 'k', BadDataPolicy())
    assert a.shape == (6, 6, 3) and np.array_equal(a, b)
    assert np.array_equal(a[:3, :4], img)
    one = np.zeros((1, 1, 3), np.uint8)
    assert pad_to_size(one, one, 4, 'k', BadDataPolicy())[0].shape == (4, 4,
                                                                         3)
    with pytest.raises(BadPairError, match='4x3 is smaller than the crop'):
        pad_to_size(img, img, 6, 'k', BadDataPolicy(too_small='error'))
