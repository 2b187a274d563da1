"""LPIPS with the AlexNet trunk, the perceptual metric of the authors'
protocol (lower is better).

LPIPS needs two sets of weights: torchvision's ImageNet AlexNet (downloaded
once into the torch hub cache) and the linear layers shipped inside the
``lpips`` package. Nothing is downloaded here: when a file is missing the
metric logs one message naming it and reports no value (never a made-up
one), and the other metrics run as usual.
"""
import logging
import os.path as osp
import warnings
from functools import lru_cache
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmagic.evaluation.metrics.base_sample_wise_metric import \
    BaseSampleWiseMetric
from mmagic.registry import METRICS
from mmengine.logging import print_log


def lpips_weight_files() -> Dict[str, str]:
    """Local files LPIPS-AlexNet needs: ``{'alexnet': ..., 'linear': ...}``.

    The AlexNet file is where torchvision caches its download
    (``$TORCH_HOME/hub/checkpoints``); the linear weights ship with
    ``lpips``. A path is empty when the ``lpips`` package is missing.
    """
    from torchvision.models import AlexNet_Weights
    url = AlexNet_Weights.IMAGENET1K_V1.url
    files = dict(alexnet=osp.join(torch.hub.get_dir(), 'checkpoints',
                                  osp.basename(url)), linear='')
    try:
        import lpips
    except ImportError:
        return files
    files['linear'] = osp.join(osp.dirname(lpips.__file__), 'weights',
                               'v0.1', 'alex.pth')
    return files


@lru_cache(maxsize=1)
def load_pretrained_lpips() -> Optional[nn.Module]:
    """The pretrained LPIPS-AlexNet network, or None (logged once) when its
    weights are not available locally. Cached: one network per process."""
    files = lpips_weight_files()
    missing = [f'{name} weights ({path or "the lpips package"})'
               for name, path in files.items() if not osp.isfile(path)]
    if missing:
        print_log(
            'LPIPS skipped, no value reported: missing ' +
            ' and '.join(missing) + '. To enable it, install lpips and put '
            "torchvision's AlexNet file there (e.g. python -c \"import "
            'torchvision; torchvision.models.alexnet(weights=\'DEFAULT\')" '
            'on a machine with internet access, then copy it).',
            logger='current', level=logging.WARNING)
        return None
    import lpips
    with warnings.catch_warnings():
        # lpips asks torchvision for AlexNet with the deprecated
        # `pretrained=True`; torchvision loads the cached file.
        warnings.simplefilter('ignore', UserWarning)
        net = lpips.LPIPS(net='alex', verbose=False)
    return net.eval().requires_grad_(False)


@METRICS.register_module()
class LPIPS(BaseSampleWiseMetric):
    """LPIPS distance (AlexNet) between the prediction and the target.

    Images reach the metric as (3, H, W) tensors in [0, 255] in the channel
    order of :attr:`channel_order` (BGR, as mmagic's data preprocessor
    destructs them); they are turned into RGB in [-1, 1], as LPIPS expects,
    at full resolution.

    Args:
        gt_key (str): Key of the target image.
        pred_key (str): Key of the predicted image.
        net (nn.Module, optional): The LPIPS network, called as
            ``net(pred, gt)`` on (1, 3, H, W) RGB tensors in [-1, 1]. None
            loads the pretrained AlexNet LPIPS (see
            :func:`load_pretrained_lpips`); if its weights are missing the
            metric reports nothing.
        device (str, optional): Where LPIPS runs; CUDA when available if
            None.
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Prefix of the result key, e.g. the test set.
    """

    metric = 'LPIPS'

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 net: Optional[nn.Module] = None,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            device=device,
            collect_device=collect_device,
            prefix=prefix)
        self.net = net if net is not None else load_pretrained_lpips()

    @property
    def available(self) -> bool:
        """Whether the metric has a network, i.e. reports a value."""
        return self.net is not None

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        if self.available:
            super().process(data_batch, data_samples)

    def _to_lpips_input(self, img) -> torch.Tensor:
        img = torch.as_tensor(img, dtype=torch.float32, device=self.device)
        if self.channel_order.upper() == 'BGR':
            img = img.flip(0)
        return img[None] / 127.5 - 1

    @torch.no_grad()
    def process_image(self, gt, pred, mask) -> float:
        """LPIPS of one (3, H, W) image pair in [0, 255]; ``mask`` unused."""
        net = self.net.to(self.device)
        dist = net(self._to_lpips_input(pred), self._to_lpips_input(gt))
        return float(dist.mean())

    def evaluate(self) -> dict:
        return super().evaluate() if self.available else {}
