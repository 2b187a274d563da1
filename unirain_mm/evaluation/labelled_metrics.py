"""PSNR and SSIM whose result names say how they were measured.

Two conventions are reported side by side (docs/method.md, "Evaluation"):

- ``PSNR-Y`` / ``SSIM-Y``: the Y channel of YCbCr (BT.601, as MATLAB's
  ``rgb2ycbcr``), no border crop: the deraining convention of mmagic's
  configs.
- ``PSNR-RGB``: PSNR over the three RGB channels. With ``SSIM-pyiqa``
  (:class:`~unirain_mm.evaluation.SSIMpyiqa`) and ``LPIPS``
  (:class:`~unirain_mm.evaluation.LPIPS`) it is the UniRain authors'
  protocol (``tools/test.py --protocol authors``).

The ``Input*`` variants score the rainy input, the 'do nothing' reference.
The colour conversion is fixed by the class, so a name never disagrees with
its measurement. All take mmagic's PSNR/SSIM options except ``convert_to``.
"""
from typing import Sequence

from mmagic.evaluation import PSNR, SSIM
from mmagic.registry import METRICS


class OnInputMixin:
    """Scores the destructed network input instead of the prediction.

    Put it before a sample-wise metric class (``class X(OnInputMixin, PSNR)``)
    and give the result its own ``metric`` name.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(pred_key='input', **kwargs)

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        super().process(data_batch, [
            dict(sample, output=dict(input=sample['input']))
            for sample in data_samples
        ])


@METRICS.register_module()
class PSNRY(PSNR):
    """PSNR on the Y channel, reported as ``PSNR-Y``."""
    metric = 'PSNR-Y'

    def __init__(self, **kwargs) -> None:
        super().__init__(convert_to='Y', **kwargs)


@METRICS.register_module()
class SSIMY(SSIM):
    """SSIM on the Y channel, reported as ``SSIM-Y``."""
    metric = 'SSIM-Y'

    def __init__(self, **kwargs) -> None:
        super().__init__(convert_to='Y', **kwargs)


@METRICS.register_module()
class PSNRRGB(PSNR):
    """PSNR over the RGB channels, reported as ``PSNR-RGB``."""
    metric = 'PSNR-RGB'

    def __init__(self, **kwargs) -> None:
        super().__init__(convert_to=None, **kwargs)


@METRICS.register_module()
class InputPSNRY(OnInputMixin, PSNRY):
    """``PSNR-Y`` of the rainy input, reported as ``InputPSNR-Y``."""
    metric = 'InputPSNR-Y'


@METRICS.register_module()
class InputSSIMY(OnInputMixin, SSIMY):
    """``SSIM-Y`` of the rainy input, reported as ``InputSSIM-Y``."""
    metric = 'InputSSIM-Y'


@METRICS.register_module()
class InputPSNRRGB(OnInputMixin, PSNRRGB):
    """``PSNR-RGB`` of the rainy input, reported as ``InputPSNR-RGB``."""
    metric = 'InputPSNR-RGB'
