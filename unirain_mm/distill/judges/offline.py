"""A judge that needs no model: no-reference image measures and retrieval
similarity, each checked against a configured range."""
import time
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..images import fit_max_side, read_rgb
from ..registry import JUDGES
from .base import ABSTAIN, NO, YES, BaseJudge, JudgeAnswer, JudgeQuery

_MEASURE_SIDE = 512  # sharpness and noise depend on scale: measure at one


def _grey(img: np.ndarray) -> np.ndarray:
    small = fit_max_side(img, _MEASURE_SIDE)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)


def sharpness(img: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image (0-255 scale), at a
    longer side of at most 512: low for blurred images."""
    return float(cv2.Laplacian(_grey(img), cv2.CV_32F).var())


def noise_sigma(img: np.ndarray) -> float:
    """Noise standard deviation (0-255 scale) by Immerkaer's estimator (a
    Laplacian-difference mask that cancels smooth image content)."""
    grey = _grey(img)
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    resp = np.abs(cv2.filter2D(grey, cv2.CV_32F, mask)[1:-1, 1:-1])
    h, w = grey.shape
    return float(np.sqrt(np.pi / 2) * resp.sum() / (6 * (w - 2) * (h - 2)))


def clipped_fraction(img: np.ndarray) -> float:
    """Fraction of pixels at the ends of the range (<= 2 or >= 253)."""
    grey = _grey(img)
    return float(((grey <= 2) | (grey >= 253)).mean())


def pair_psnr(rainy: np.ndarray, clean: np.ndarray) -> float:
    """PSNR (dB) of the rainy image against its clean image: very high
    means almost no rain, very low a misaligned or unrelated pair. NaN for
    images of different sizes; 100 for identical images."""
    if rainy.shape != clean.shape:
        return float('nan')
    mse = np.mean((rainy.astype(np.float32) - clean.astype(np.float32))**2)
    return 100.0 if mse < 1e-8 else float(10 * np.log10(255**2 / mse))


def _refs(query: JudgeQuery, field: str) -> np.ndarray:
    return np.array([r[field] for r in query.references], np.float64)


# name -> (needs the clean target, function of (query, rainy, clean))
_MEASURES: Dict[str, Tuple[bool, Callable]] = {
    'ref_ssim_max': (False, lambda q, x, y: _refs(q, 'ssim').max()),
    'ref_ssim_mean': (False, lambda q, x, y: _refs(q, 'ssim').mean()),
    'ref_image_cos_max': (False, lambda q, x, y: _refs(q, 'image_cos').max()),
    'ref_image_cos_mean':
    (False, lambda q, x, y: _refs(q, 'image_cos').mean()),
    'ref_text_l2_min': (False, lambda q, x, y: _refs(q, 'text_l2').min()),
    'input_sharpness': (False, lambda q, x, y: sharpness(x)),
    'target_sharpness': (True, lambda q, x, y: sharpness(y)),
    'target_noise': (True, lambda q, x, y: noise_sigma(y)),
    'target_clipped': (True, lambda q, x, y: clipped_fraction(y)),
    'pair_psnr': (True, lambda q, x, y: pair_psnr(x, y)),
}
MEASURES = tuple(_MEASURES)


@JUDGES.register_module()
class OfflineJudge(BaseJudge):
    """Says yes when every configured measure lies in its range.

    Measures (see the functions of this module): ``ref_ssim_max``,
    ``ref_ssim_mean``, ``ref_image_cos_max``, ``ref_image_cos_mean``,
    ``ref_text_l2_min`` (retrieval similarity of the K3 references);
    ``input_sharpness``, ``target_sharpness``, ``target_noise``,
    ``target_clipped`` (no-reference quality) and ``pair_psnr`` (rainy vs
    clean image). A query without references or without the clean target
    that a measure needs, or with unreadable images, is an abstention.

    Args:
        name (str): Judge name.
        checks (dict): Measure name -> ``(low, high)``; either bound may be
            ``None``.
        prompt (str, optional): Unused by this judge; accepted so that one
            prompt can be set for all judges.
    """

    def __init__(self,
                 name: str,
                 checks: Dict[str, Sequence[Optional[float]]],
                 prompt: Optional[str] = None) -> None:
        super().__init__(name, prompt)
        unknown = sorted(set(checks) - set(_MEASURES))
        if unknown or not checks:
            raise ValueError(f'judge {name!r}: unknown or no measures '
                             f'{unknown}; available: {list(MEASURES)}')
        # Sorted: a config dumped and reloaded (e.g. by torchrun workers) may
        # reorder the checks, and the verdict's message must not depend on it.
        self.checks = {k: tuple(v) for k, v in sorted(checks.items())}
        self.needs_target = any(_MEASURES[k][0] for k in checks)
        self.needs_refs = any(k.startswith('ref_') for k in checks)

    def judge(self, query: JudgeQuery) -> JudgeAnswer:
        start = time.monotonic()
        if self.needs_target and not query.target_path:
            return JudgeAnswer(ABSTAIN, error='no clean target')
        if self.needs_refs and not query.references:
            return JudgeAnswer(ABSTAIN, error='no references')
        rainy = read_rgb(query.input_path)
        clean = read_rgb(query.target_path) if self.needs_target else None
        values, failed = {}, []
        for name, (low, high) in self.checks.items():
            value = float(_MEASURES[name][1](query, rainy, clean))
            values[name] = round(value, 4) if np.isfinite(value) else None
            if np.isnan(value) or (low is not None and value < low) or (
                    high is not None and value > high):
                failed.append(f'{name}={value:.4g} not in [{low}, {high}]')
        return JudgeAnswer(NO if failed else YES,
                           raw='; '.join(failed) or 'all checks passed',
                           details=values, seconds=time.monotonic() - start)
