"""Centre crop to a multiple of a base size, as the UniRain authors' test
script does before inference."""
from typing import Sequence

from mmcv.transforms import BaseTransform
from mmagic.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CropToMultiple(BaseTransform):
    """Crop ``keys`` so that height and width are multiples of ``base``.

    ``h % base`` rows are removed, ``(h % base) // 2`` of them at the top and
    the rest at the bottom; columns likewise (left, then right). A 37x50
    image with ``base=16`` keeps rows 2 to 33 and columns 1 to 48, inclusive
    (32x48).
    Updates ``<key>_shape`` when the results have it.

    Args:
        keys (Sequence[str]): Keys of (H, W[, C]) arrays, cropped alike.
        base (int): The multiple.
    """

    def __init__(self, keys: Sequence[str] = ('img', 'gt'),
                 base: int = 16) -> None:
        if base < 1:
            raise ValueError(f'CropToMultiple: base must be >= 1, got {base}')
        self.keys = tuple(keys)
        self.base = base

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            img = results[key]
            h, w = img.shape[:2]
            if h < self.base or w < self.base:
                raise ValueError(
                    f'CropToMultiple: {key} of {results.get("img_path", "")}'
                    f' is {h}x{w}, smaller than base {self.base}')
            top, left = (h % self.base) // 2, (w % self.base) // 2
            img = img[top:top + h - h % self.base,
                      left:left + w - w % self.base]
            results[key] = img
            if f'{key}_shape' in results:
                results[f'{key}_shape'] = img.shape
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keys={self.keys}, '
                f'base={self.base})')
