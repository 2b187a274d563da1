"""``BaseEditModel`` whose evaluation forward can tile large images."""
from typing import List, Optional

import torch
from mmagic.models import BaseEditModel
from mmagic.registry import MODELS
from mmagic.structures import DataSample


@MODELS.register_module()
class TiledEditModel(BaseEditModel):
    """mmagic's ``BaseEditModel`` that, outside training, restores each image
    with :func:`unirain_mm.apis.tiled_forward` when ``test_cfg`` has
    ``tiling=dict(tile=..., overlap=..., ...)``, so that any generator
    (Restormer, NAFNet, UniRainNet) runs on large images in bounded memory,
    as ``tools/infer.py`` and ``UniRainInferencer`` ask. Without ``tiling``
    it is ``BaseEditModel``."""

    def forward_tensor(self,
                       inputs: torch.Tensor,
                       data_samples: Optional[List[DataSample]] = None,
                       **kwargs) -> torch.Tensor:
        """The generator's output, (B, C, H, W); tiled per image in
        evaluation when ``test_cfg`` has ``tiling``."""
        tiling = (self.test_cfg or {}).get('tiling')
        if self.training or not tiling:
            return super().forward_tensor(inputs, data_samples, **kwargs)
        from unirain_mm.apis.inferencer import tiled_forward
        return torch.cat([
            tiled_forward(self.generator, img[None], **tiling).to(img.dtype)
            for img in inputs
        ])
