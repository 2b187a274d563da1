"""Online rain synthesis: turn a clean training image into a rainy pair."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmagic.registry import TRANSFORMS

from unirain_mm.datasets.rain_synthesis import HEAVY_RAIN_PROB, synthesize
from unirain_mm.rain_types import RAIN_TYPES, rain_type_code, rain_type_id


@TRANSFORMS.register_module()
class SynthesizeRain(BaseTransform):
    """Add rain of a random type to a clean image (same synthesis as the
    demo data, :func:`unirain_mm.datasets.rain_synthesis.synthesize`).

    Reads the clean image from ``results[clean_key]`` (uint8 HxWx3, channel
    order from ``results['<clean_key>_channel_order']``, RGB if absent) and
    writes the rainy image to ``results['img']`` and the target to
    ``results['gt']`` (the clean image for daytime types, its night version
    for nighttime types), with ``gt_label`` (type id) and ``rain_type``
    (code), ready for ``PackInputs`` and the :class:`UniRain` loss.

    Randomness comes from a generator seeded by numpy's global RNG, which
    mmengine seeds per worker, so a seeded run draws the same rain.

    Args:
        rain_types (Sequence[str]): Types to draw from.
        probs (Sequence[float], optional): Their probabilities; uniform if
            None.
        clean_key (str): Key of the clean image.
        heavy_prob (float): Probability of heavy rain for DRS samples (see
            :func:`~unirain_mm.datasets.rain_synthesis.synthesize`); the
            default is the calibrated mixture.
        clean_prob (float): Probability that a sample stays rain-free: the
            input is the target itself (for night types, the night scene
            with its glow and noise). A model that only ever sees rainy
            inputs learns to change every image (it darkens clean ones, as
            if they held rain); rain-free samples teach it to leave clean
            images and clean regions alone. 0 (the default) keeps every
            sample rainy.
    """

    def __init__(self,
                 rain_types: Sequence[str] = RAIN_TYPES,
                 probs: Optional[Sequence[float]] = None,
                 clean_key: str = 'gt',
                 heavy_prob: float = HEAVY_RAIN_PROB,
                 clean_prob: float = 0.0) -> None:
        self.rain_types = tuple(rain_type_code(t) for t in rain_types)
        if not self.rain_types:
            raise ValueError('rain_types must not be empty')
        if probs is not None:
            probs = np.asarray(probs, np.float64)
            if probs.shape != (len(self.rain_types), ) or (probs < 0).any() \
                    or probs.sum() <= 0:
                raise ValueError(f'probs {probs.tolist()} must be '
                                 f'{len(self.rain_types)} non-negative '
                                 'numbers with a positive sum')
            probs = probs / probs.sum()
        self.probs = probs
        self.clean_key = clean_key
        if not 0.0 <= heavy_prob <= 1.0:
            raise ValueError(f'heavy_prob must be in [0, 1], got {heavy_prob}')
        self.heavy_prob = float(heavy_prob)
        if not 0.0 <= clean_prob <= 1.0:
            raise ValueError(f'clean_prob must be in [0, 1], got {clean_prob}')
        self.clean_prob = float(clean_prob)

    def transform(self, results: dict) -> dict:
        clean = results[self.clean_key]
        bgr = results.get(f'{self.clean_key}_channel_order', 'rgb') == 'bgr'
        rng = np.random.default_rng(np.random.randint(2**31 - 1))
        code = self.rain_types[rng.choice(len(self.rain_types),
                                          p=self.probs)]
        rgb = np.ascontiguousarray(clean[..., ::-1] if bgr else clean)
        rainy, target = synthesize(rgb, code, rng,
                                   heavy_prob=self.heavy_prob)
        if self.clean_prob > 0 and rng.random() < self.clean_prob:
            rainy = target.copy()
        if bgr:
            rainy, target = rainy[..., ::-1], target[..., ::-1]
        results['img'] = np.ascontiguousarray(rainy)
        results['gt'] = np.ascontiguousarray(target)
        for suffix in ('channel_order', 'color_type'):
            if f'{self.clean_key}_{suffix}' in results:
                value = results[f'{self.clean_key}_{suffix}']
                results[f'img_{suffix}'] = results[f'gt_{suffix}'] = value
        results['ori_img_shape'] = results['ori_gt_shape'] = rainy.shape
        results['gt_label'] = rain_type_id(code)
        results['rain_type'] = code
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(rain_types={self.rain_types}, '
                f'probs={self.probs}, clean_key={self.clean_key!r}, '
                f'heavy_prob={self.heavy_prob}, '
                f'clean_prob={self.clean_prob})')
