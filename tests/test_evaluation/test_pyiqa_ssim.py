"""Both conventions cross-checked against independent implementations
(scikit-image, and pyiqa itself where it is importable) on image pairs made
here."""
import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from unirain_mm.evaluation import (PSNRRGB, PSNRY, SSIMY, InputSSIMpyiqa,
                                   SSIMpyiqa, pyiqa_ssim)


def _pairs(integer=False):
    """A textured RGB target (40x37) with a noisy, a colour-shifted and an
    inverted prediction, as (gt, pred) float64 HWC arrays in 0..255.

    With ``integer`` the images hold 8-bit values, as files do; without, no
    luma lies near a rounding tie, where float32 and float64 round apart.
    """
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:40, 0:37]
    gt = np.stack([120 + 80 * np.sin(xx / 3 + c) * np.cos(yy / 5)
                   for c in range(3)], axis=2)
    gt = np.clip(gt + rng.normal(0, 10, gt.shape), 0, 255)
    noisy = np.clip(gt + rng.normal(0, 15, gt.shape), 0, 255)
    shifted = np.clip(gt * 0.9 + [12.3, -4.7, 8.1], 0, 255)
    pairs = [(gt, noisy), (gt, shifted), (gt, 255 - gt)]
    return [(a.round(), b.round()) for a, b in pairs] if integer else pairs


def _score(metric, gt, pred, rainy=None):
    """Score one pair as the test loop does: (3, H, W) BGR tensors."""
    def bgr(a):
        return torch.from_numpy(np.ascontiguousarray(
            a[..., ::-1].transpose(2, 0, 1))).float()
    sample = dict(gt_img=bgr(gt), output=dict(pred_img=bgr(pred)))
    if rainy is not None:
        sample['input'] = bgr(rainy)
    metric.process(None, [sample])
    return metric.results[-1][metric.metric]


def _ycbcr_y(rgb):
    """ITU-R BT.601 studio-range luma (as MATLAB's rgb2ycbcr), 0..255."""
    r, g, b = (rgb[..., i] for i in range(3))
    return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255


def _yiq_y(rgb):
    """BT.601 full-range luma (the Y of YIQ), rounded to integers."""
    r, g, b = (rgb[..., i] for i in range(3))
    return np.round(0.299 * r + 0.587 * g + 0.114 * b)


def _skimage_ssim_map(x, y):
    """scikit-image's SSIM map with an 11x11, sigma-1.5 Gaussian window,
    restricted to the pixels whose window lies inside the image."""
    _, full = structural_similarity(
        x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=255, full=True)
    return full[5:-5, 5:-5]


@pytest.mark.parametrize('index', range(3))
def test_mmagic_convention_matches_skimage(index):
    gt, pred = _pairs()[index]
    assert _score(PSNRRGB(), gt, pred) == pytest.approx(
        peak_signal_noise_ratio(gt, pred, data_range=255), abs=1e-4)
    y_gt, y_pred = _ycbcr_y(gt), _ycbcr_y(pred)
    assert _score(PSNRY(), gt, pred) == pytest.approx(
        peak_signal_noise_ratio(y_gt, y_pred, data_range=255), abs=1e-4)
    assert _score(SSIMY(), gt, pred) == pytest.approx(
        _skimage_ssim_map(y_pred, y_gt).mean(), abs=1e-6)


@pytest.mark.parametrize('index', range(3))
def test_ssim_pyiqa_matches_skimage_on_rounded_yiq_luma(index):
    gt, pred = _pairs()[index]
    s_map = _skimage_ssim_map(_yiq_y(pred), _yiq_y(gt))
    # pyiqa clips the contrast-structure term at 0; the luminance term is
    # positive, so that is the SSIM map clipped at 0
    expected = np.clip(s_map, 0, None).mean()
    assert _score(SSIMpyiqa(), gt, pred) == pytest.approx(expected,
                                                          abs=1e-9)
    if index == 2:  # inverted: negative structure, clipped to 0
        assert expected < 0.05 and s_map.mean() < 0
    else:  # correlated pairs: the clip changes nothing
        assert expected == pytest.approx(s_map.mean(), abs=1e-12)


def test_ssim_pyiqa_is_not_mmagics_ssim_y():
    gt, pred = _pairs()[1]
    assert abs(_score(SSIMpyiqa(), gt, pred) -
               _score(SSIMY(), gt, pred)) > 1e-4


def test_input_variant_scores_the_rainy_input():
    gt, pred = _pairs()[0]
    rainy = _pairs()[1][1]
    expected = _skimage_ssim_map(_yiq_y(rainy), _yiq_y(gt)).mean()
    assert _score(InputSSIMpyiqa(), gt, pred, rainy) == pytest.approx(
        expected, abs=1e-9)


@pytest.mark.parametrize('index', range(3))
def test_ssim_pyiqa_matches_pyiqa(index):
    ssim_arch = pytest.importorskip(
        'pyiqa.archs.ssim_arch',
        reason='pyiqa is not installed beside the pinned stack (its wheel '
        'adds top-level tests/, build/, docs/ folders and ~25 unmet '
        'requirements); run with PYTHONPATH=<unpacked pyiqa wheel>')
    gt, pred = _pairs(integer=True)[index]

    def batch(a):  # pyiqa's input: (1, 3, H, W) RGB in [0, 1]
        return torch.from_numpy(a.transpose(2, 0, 1)[None] / 255).float()
    expected = float(ssim_arch.SSIM()(batch(pred), batch(gt)))
    assert pyiqa_ssim(torch.from_numpy(pred.transpose(2, 0, 1)),
                      torch.from_numpy(gt.transpose(2, 0, 1))) == \
        pytest.approx(expected, abs=1e-7)


def test_bad_sizes_fail_clearly():
    with pytest.raises(ValueError, match='same size'):
        pyiqa_ssim(torch.zeros(3, 16, 16), torch.zeros(3, 16, 17))
    with pytest.raises(ValueError, match='at least 11x11'):
        pyiqa_ssim(torch.zeros(3, 10, 16), torch.zeros(3, 10, 16))
