"""PSNR/SSIM of the rainy input itself: the 'do nothing' reference."""
from typing import Sequence

from mmagic.evaluation import PSNR, SSIM
from mmagic.registry import METRICS


class _OnInputMixin:
    """Scores the destructed network input instead of the prediction."""

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        super().process(data_batch, [
            dict(sample, output=dict(input=sample['input']))
            for sample in data_samples
        ])


@METRICS.register_module()
class InputPSNR(_OnInputMixin, PSNR):
    """PSNR between the rainy input and the target (same options as PSNR)."""
    metric = 'InputPSNR'

    def __init__(self, **kwargs) -> None:
        super().__init__(pred_key='input', **kwargs)


@METRICS.register_module()
class InputSSIM(_OnInputMixin, SSIM):
    """SSIM between the rainy input and the target (same options as SSIM)."""
    metric = 'InputSSIM'

    def __init__(self, **kwargs) -> None:
        super().__init__(pred_key='input', **kwargs)
