"""RainRAG, the UniRain authors' own data: all four rain types."""
import os
import os.path as osp
from typing import List

from unirain_mm.datasets.pairs import PairRecord, make_key
from unirain_mm.rain_types import RAIN_TYPES
from .core import CONVERTERS, pair_folders, require_dir

#: The sets the authors publish and the split each one goes to.
RAINRAG_SPLITS = ('train', 'test')


@CONVERTERS.register_module('rainrag')
def rainrag(src: str, source: str, split: str = 'train') -> List[PairRecord]:
    """RainRAG (the UniRain paper's data, CVPR 2026): the distilled training
    set ("classified" by type) and the test set, one archive each, both in
    the layout the authors' code reads. All four types.

    Layout of either set, type folders in any case (``drs``, ``DRS``)::

        <src>/
          drs/input/<name>.png     rainy
          drs/target/<name>.png    clean, same name
          drd/{input,target}/
          nrs/{input,target}/
          nrd/{input,target}/

    ``split`` says which set ``src`` is: ``train`` (default) goes to
    ``train/<TYPE>``, ``test`` to the four type test splits ``test/<TYPE>``.
    Convert the two sets with two runs into one ``out``. All four type
    folders must be there.
    """
    if split not in RAINRAG_SPLITS:
        raise ValueError(f'rainrag: split must be one of {RAINRAG_SPLITS} '
                         f'(which RainRAG set --src is), got {split!r}')
    require_dir(src, 'rainrag')
    found = {}
    for name in sorted(os.listdir(src)):
        code = name.upper()
        if code in RAIN_TYPES and osp.isdir(osp.join(src, name)):
            if code in found:
                raise ValueError(
                    f'rainrag: {osp.join(src, found[code])} and '
                    f'{osp.join(src, name)} are both type {code}')
            found[code] = name
    missing = [t.lower() for t in RAIN_TYPES if t not in found]
    if missing:
        raise FileNotFoundError(
            f'rainrag: expected the type folders {", ".join(missing)} '
            f'(any case) under {src}, which are missing. See '
            f'`convert_rain_datasets.py --list-datasets` for the layout '
            f'rainrag reads.')
    records = []
    for rain_type in RAIN_TYPES:
        base = osp.join(src, found[rain_type])
        pairs = pair_folders(osp.join(base, 'input'),
                             osp.join(base, 'target'), converter='rainrag')
        # The split is in the key: both sets use the same file names.
        records += [
            PairRecord(key=make_key(source, split, osp.relpath(inp, src)),
                       input_path=inp, target_path=tgt, rain_type=rain_type,
                       source=source, split=split) for inp, tgt in pairs
        ]
    return records
