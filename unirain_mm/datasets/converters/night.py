"""Nighttime rain datasets: GTAV-NightRain and HQ-NightRain."""
import os
import os.path as osp
import re
from typing import List

from unirain_mm.datasets.pairs import PairRecord
from .core import CONVERTERS, Part, parts_records, require_dir


@CONVERTERS.register_module('gtav-nightrain')
def gtav_nightrain(src: str, source: str) -> List[PairRecord]:
    """GTAV-NightRain (Zhang et al., 2022): synthetic night streaks rendered
    in GTA V, NRS.

    Layout of the re-rendered release used by RLP (several rainy images per
    clean image)::

        <src>/
          train/rainy/<id>_<k>.png    rainy
          train/gt/<id>.png           clean
          test/{rainy,gt}/            (same names)

    For a release split into ``set1``, ``set2``, ... point ``src`` at one
    set, and give each set its own ``source`` to keep keys apart. Goes to:
    ``train/NRS`` and ``GTAV-NightRain/NRS`` (the benchmark name).
    """
    return parts_records(src, source, 'gtav-nightrain', [
        Part(folder, split, 'NRS', 'rainy', 'gt', '{}_*', '{}')
        for folder, split in (('train', 'train'), ('test', 'GTAV-NightRain'))
    ])


#: HQ-NightRain subset code -> rain type. SD mixes streaks and drops and
#: counts as drops, as RainDS's streaks-with-drops benchmark does.
HQ_NIGHTRAIN_TYPES = {'RS': 'NRS', 'RD': 'NRD', 'SD': 'NRD'}
_SUBSET_RE = re.compile(r'(?:^|[-_])(RS|RD|SD)$', re.IGNORECASE)


@CONVERTERS.register_module('hq-nightrain')
def hq_nightrain(src: str, source: str) -> List[PairRecord]:
    """HQ-NightRain (Guan et al., NeurIPS 2025): synthetic night rain in
    three subsets: streaks (RS, NRS), drops (RD, NRD) and both (SD, NRD).

    Layout (ASSUMED: the split folders are those of the authors' CST-Net
    code; that the archive has one folder per subset, named or ending in
    RS, RD or SD, could not be checked)::

        <src>/
          HQ-NightRain-RS/train/input/<name>.jpg     rainy
          HQ-NightRain-RS/train/target/<name>.jpg    clean, same name
          HQ-NightRain-RS/validation/{input,target}/
          HQ-NightRain-RS/test/{input,target}/
          HQ-NightRain-RD/...
          HQ-NightRain-SD/...

    Goes to: ``train/{NRS,NRD}``, ``val/{NRS,NRD}`` and
    ``HQ-NightRain-{RS,RD,SD}/...``.
    """
    require_dir(src, 'hq-nightrain')
    parts = []
    for folder in sorted(os.listdir(src)):
        match = _SUBSET_RE.search(folder)
        if match and osp.isdir(osp.join(src, folder)):
            code = match.group(1).upper()
            rain_type = HQ_NIGHTRAIN_TYPES[code]
            parts += [
                Part(f'{folder}/train', 'train', rain_type),
                Part(f'{folder}/validation', 'val', rain_type),
                Part(f'{folder}/test', f'HQ-NightRain-{code}', rain_type),
            ]
    if not parts:
        raise FileNotFoundError(
            f'hq-nightrain: expected sub-folders named or ending in RS, RD or '
            f'SD (e.g. HQ-NightRain-RS) under {src}')
    return parts_records(src, source, 'hq-nightrain', parts)
