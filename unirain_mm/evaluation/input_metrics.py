"""PSNR/SSIM of the rainy input itself: the 'do nothing' reference."""
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
class InputPSNR(OnInputMixin, PSNR):
    """PSNR between the rainy input and the target (same options as PSNR)."""
    metric = 'InputPSNR'


@METRICS.register_module()
class InputSSIM(OnInputMixin, SSIM):
    """SSIM between the rainy input and the target (same options as SSIM)."""
    metric = 'InputSSIM'
