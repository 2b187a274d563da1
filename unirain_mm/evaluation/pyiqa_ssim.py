"""SSIM as pyiqa's default ``ssim`` metric computes it, reported as
``SSIM-pyiqa``: the SSIM of the UniRain authors' protocol.

pyiqa (0.1.x, ``create_metric('ssim')``) measures, on RGB images in [0, 1]:

- the Y channel of YIQ, ``0.299 R + 0.587 G + 0.114 B`` (BT.601 luma,
  full range, no offset) of the [0, 1] image in float32, scaled to 0-255
  and rounded to integers, as MATLAB's uint8 images are;
- an 11x11 Gaussian window with sigma 1.5 (normalised to sum 1), applied
  without padding ('valid'): the 5-pixel border has no SSIM value;
- ``C1 = (0.01 * 255) ** 2``, ``C2 = (0.03 * 255) ** 2``, the
  contrast-structure term clipped at 0, no downsampling, no border crop;
- the mean of the SSIM map, in float64.

It differs from mmagic's ``SSIM-Y`` (:class:`~unirain_mm.evaluation.SSIMY`)
in the luma (studio-range ``16 + 65.481 R' + 128.553 G' + 24.966 B'`` there,
not rounded) and the clipping. This is our own implementation of those
formulas; pyiqa is not a dependency.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmagic.evaluation.metrics.base_sample_wise_metric import \
    BaseSampleWiseMetric
from mmagic.registry import METRICS

from .labelled_metrics import OnInputMixin

#: BT.601 luma weights of R, G and B (the Y row of YIQ).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """(1, 1, size, size) float64 Gaussian window summing to 1."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x**2 / (2 * sigma**2))
    window = g[:, None] * g[None, :]
    return (window / window.sum())[None, None]


def pyiqa_luma(img: torch.Tensor) -> torch.Tensor:
    """Rounded 0-255 Y of YIQ of an RGB image, computed as pyiqa does: in
    float32 from [0, 1] values, so that the many exact ``.5`` values of
    8-bit targets round the same way.

    Args:
        img (Tensor): (3, H, W) RGB in [0, 255] (clamped to it).

    Returns:
        Tensor: (1, 1, H, W) float64 integer-valued Y.
    """
    x = (img.to(torch.float32) / 255).clamp(0, 1)
    weights = torch.tensor(LUMA_WEIGHTS, dtype=torch.float32,
                           device=img.device)
    luma = torch.matmul(x.permute(1, 2, 0), weights) * 255
    return torch.round(luma).to(torch.float64)[None, None]


def pyiqa_ssim(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """pyiqa's default SSIM of one RGB image pair.

    Args:
        pred (Tensor): (3, H, W) RGB in [0, 255].
        gt (Tensor): (3, H, W) RGB in [0, 255], the same size; both sides
            at least 11 pixels.

    Returns:
        float: SSIM in [0, 1].
    """
    if pred.shape != gt.shape or pred.dim() != 3 or pred.shape[0] != 3:
        raise ValueError('SSIM-pyiqa needs two (3, H, W) RGB images of the '
                         f'same size, got {tuple(pred.shape)} and '
                         f'{tuple(gt.shape)}')
    if min(pred.shape[1:]) < 11:
        raise ValueError('SSIM-pyiqa needs images of at least 11x11 '
                         f'pixels, got {tuple(pred.shape[1:])}')
    x, y = pyiqa_luma(pred), pyiqa_luma(gt)
    window = _gaussian_window().to(x.device)

    def blur(t):
        return F.conv2d(t, window)

    c1, c2 = (0.01 * 255)**2, (0.03 * 255)**2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    cs = F.relu((2 * cov + c2) / (var_x + var_y + c2))
    lum = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    return float((lum * cs).mean())


@METRICS.register_module()
class SSIMpyiqa(BaseSampleWiseMetric):
    """pyiqa's default SSIM (see :func:`pyiqa_ssim`), reported as
    ``SSIM-pyiqa``.

    Images reach the metric as (3, H, W) tensors in [0, 255] in the channel
    order of :attr:`channel_order` (BGR, as mmagic's data preprocessor
    destructs them).

    Args:
        gt_key (str): Key of the target image.
        pred_key (str): Key of the predicted image.
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Prefix of the result key, e.g. the test set.
    """

    metric = 'SSIM-pyiqa'

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            collect_device=collect_device,
            prefix=prefix)

    def _to_rgb(self, img) -> torch.Tensor:
        img = torch.as_tensor(img)
        return img.flip(0) if self.channel_order.upper() == 'BGR' else img

    def process_image(self, gt, pred, mask) -> float:
        """SSIM-pyiqa of one (3, H, W) image pair; ``mask`` unused."""
        return pyiqa_ssim(self._to_rgb(pred), self._to_rgb(gt))


@METRICS.register_module()
class InputSSIMpyiqa(OnInputMixin, SSIMpyiqa):
    """``SSIM-pyiqa`` of the rainy input, reported as ``InputSSIM-pyiqa``."""
    metric = 'InputSSIM-pyiqa'
