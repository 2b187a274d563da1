"""Writes the restored test images, and optionally comparison grids."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmagic.registry import HOOKS

from unirain_mm.fileio import atomic_write_png

GRID_LABELS = ('input', 'output', 'target')


def to_rgb_uint8(img: torch.Tensor) -> np.ndarray:
    """A destructed (3, H, W) BGR float tensor in [0, 255] -> (H, W, 3)
    uint8 RGB (rounded), the layout mmagic's data preprocessor and metrics
    use."""
    img = img.detach().float().clamp(0, 255).round().byte().cpu().numpy()
    return np.ascontiguousarray(img[::-1].transpose(1, 2, 0))


def labelled_grid(images: Sequence[np.ndarray],
                  labels: Sequence[str],
                  gap: int = 4) -> np.ndarray:
    """Images of one size side by side, each under a label.

    Args:
        images (Sequence[ndarray]): (H, W, 3) uint8 RGB images.
        labels (Sequence[str]): One caption per image.
        gap (int): White pixels between images.

    Returns:
        ndarray: (H + header, n * W + (n - 1) * gap, 3) uint8 RGB.
    """
    import cv2
    h, w = images[0].shape[:2]
    scale = max(0.4, w / 400)
    thickness = max(1, round(scale))
    header = int(30 * scale)
    tiles = []
    for img, label in zip(images, labels):
        top = np.full((header, w, 3), 255, np.uint8)
        cv2.putText(top, label, (int(6 * scale), int(22 * scale)),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)
        tiles.append(np.concatenate([top, img], axis=0))
    spacer = np.full((h + header, gap, 3), 255, np.uint8)
    parts: List[np.ndarray] = []
    for tile in tiles:
        parts += [spacer, tile] if parts else [tile]
    return np.concatenate(parts, axis=1)


@HOOKS.register_module()
class SaveImagesHook(Hook):
    """Save every restored test image under its input's file name.

    Writes ``<out_dir>/<set>/<name>.png`` and, with ``grid=True``,
    ``<out_dir>/grids/<set>/<name>.png`` (input | output | target, labelled).
    ``<set>`` is the metric prefix of the test set being run (the row label
    of the results table), so it works with ``MultiTestLoop``; ``test`` if
    the metrics have no prefix. Outputs are rounded to uint8 and written
    atomically.

    Args:
        out_dir (str): Output folder.
        grid (bool): Also write comparison grids.
    """

    priority = 'NORMAL'

    def __init__(self, out_dir: str, grid: bool = False) -> None:
        self.out_dir = out_dir
        self.grid = grid

    @staticmethod
    def set_name(runner) -> str:
        """The prefix of the metrics of the test set being run."""
        evaluator = getattr(runner.test_loop, 'evaluator', None)
        prefixes = {m.prefix for m in getattr(evaluator, 'metrics', [])}
        prefixes.discard(None)
        return prefixes.pop() if len(prefixes) == 1 else 'test'

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        set_name = self.set_name(runner)
        for sample in outputs or []:
            name = osp.splitext(osp.basename(sample.img_path))[0] + '.png'
            restored = to_rgb_uint8(sample.output.pred_img)
            atomic_write_png(osp.join(self.out_dir, set_name, name), restored)
            if self.grid:
                grid = labelled_grid([
                    to_rgb_uint8(sample.input), restored,
                    to_rgb_uint8(sample.gt_img)
                ], GRID_LABELS)
                atomic_write_png(
                    osp.join(self.out_dir, 'grids', set_name, name), grid)
