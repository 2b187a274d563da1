"""Raindrop datasets: RainDrop (Qian et al.), Raindrop Clarity and RainDS
(whose streak-only part is DRS)."""
import re
from typing import List, Optional

from unirain_mm.datasets.pairs import PairRecord
from .core import CONVERTERS, Part, parts_records


@CONVERTERS.register_module('raindrop')
def raindrop(src: str, source: str) -> List[PairRecord]:
    """RainDrop (Qian et al., CVPR 2018): real daytime raindrops on glass,
    DRD.

    Layout of the release::

        <src>/
          train/data/<n>_rain.png     rainy
          train/gt/<n>_clean.png      clean
          test_a/{data,gt}/           (same names)
          test_b/{data,gt}/           (.jpg in test_b)

    Goes to: ``train/DRD``, ``RainDrop-test_a/DRD`` and
    ``RainDrop-test_b/DRD`` (the benchmark names).
    """
    return parts_records(src, source, 'raindrop', [
        Part(folder, split, 'DRD', 'data', 'gt', '{}_rain', '{}_clean')
        for folder, split in (('train', 'train'),
                              ('test_a', 'RainDrop-test_a'),
                              ('test_b', 'RainDrop-test_b'))
    ])


@CONVERTERS.register_module('raindrop-clarity')
def raindrop_clarity(src: str, source: str) -> List[PairRecord]:
    """Raindrop Clarity (Jin et al., ECCV 2024): real raindrops by day (DRD)
    and by night (NRD), drop- and background-focused shots.

    Layout of the training archives::

        <src>/
          DayRainDrop_Train/Drop/<scene>/<frame>.png     rainy (both focuses)
          DayRainDrop_Train/Blur/<scene>/<frame>.png     not used
          DayRainDrop_Train/Clear/<scene>/<frame>.png    clean, same path
          NightRainDrop_Train/{Drop,Blur,Clear}/<scene>/<frame>.png

    Every ``Drop`` frame pairs with the ``Clear`` frame of the same path.
    ``Blur`` is the clean scene as focused on the drops (equal to ``Clear``
    for background-focused shots), so the target is always the sharp
    background. The public test archives carry no ground truth and are not
    converted. Goes to: ``train/DRD`` and ``train/NRD``.
    """
    return parts_records(src, source, 'raindrop-clarity', [
        Part(folder, 'train', rain_type, 'Drop', 'Clear', recursive=True)
        for folder, rain_type in (('DayRainDrop_Train', 'DRD'),
                                  ('NightRainDrop_Train', 'NRD'))
    ])


# Markers RainDS puts before the image number (the real part may use bare
# numbers); 'pie-' prefixes a second numbering and stays part of the id.
_RAINDS_MARKER = re.compile(r'^(pie-)?(?:norain-|rd-rain-|rd-|rain-)')


def rainds_id(stem: str) -> Optional[str]:
    """Pair id of a RainDS file stem, e.g. ``'pie-rd-rain-12'`` -> ``'pie-12'``
    and ``'norain-12'`` -> ``'12'``."""
    return _RAINDS_MARKER.sub(r'\1', stem)


#: RainDS rainy folder -> (short name used in split names, rain type).
#: Streaks with drops count as drops, as the RainDS-real-RDS benchmark does.
RAINDS_KINDS = {
    'raindrop': ('RD', 'DRD'),
    'rainstreak': ('RS', 'DRS'),
    'rainstreak_raindrop': ('RDS', 'DRD'),
}


@CONVERTERS.register_module('rainds')
def rainds(src: str, source: str) -> List[PairRecord]:
    """RainDS (Quan et al., CVPR 2021): daytime raindrops (RD), streaks (RS)
    and both (RDS), synthetic and real.

    Layout of the release::

        <src>/
          RainDS_syn/train/gt/norain-<n>.png                clean
          RainDS_syn/train/raindrop/rd-<n>.png              RD
          RainDS_syn/train/rainstreak/rain-<n>.png          RS
          RainDS_syn/train/rainstreak_raindrop/rd-rain-<n>.png   RDS
          RainDS_syn/test/...                               (same)
          RainDS_real/train_set/{gt,raindrop,rainstreak,rainstreak_raindrop}/
          RainDS_real/test_set/...                          (same)

    Files pair by number (a ``pie-`` prefix marks a second numbering; bare
    numbers without markers pair too). RD and RDS are DRD, RS is DRS.
    Goes to: ``train/{DRD,DRS}``, ``RainDS-real-RD/DRD``,
    ``RainDS-real-RDS/DRD`` (the benchmark names), ``RainDS-real-RS/DRS``
    and ``RainDS-syn-{RD,RS,RDS}``.
    """
    parts = []
    for folder, split in (('RainDS_syn/train', 'train'),
                          ('RainDS_syn/test', 'RainDS-syn-{}'),
                          ('RainDS_real/train_set', 'train'),
                          ('RainDS_real/test_set', 'RainDS-real-{}')):
        parts += [
            Part(folder, split.format(short), rain_type, rainy, 'gt',
                 rainds_id, rainds_id)
            for rainy, (short, rain_type) in RAINDS_KINDS.items()
        ]
    return parts_records(src, source, 'rainds', parts)
