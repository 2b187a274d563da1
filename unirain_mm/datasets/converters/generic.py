"""The converter for any other dataset: two folders and a pairing rule."""
import os.path as osp
from typing import List, Optional

from unirain_mm.datasets.pairs import PairRecord
from .core import CONVERTERS, make_records, pair_folders, read_mapping


@CONVERTERS.register_module('generic')
def generic(src: str,
            source: str,
            rain_type: Optional[str] = None,
            split: str = 'train',
            input_dir: str = 'input',
            target_dir: str = 'target',
            input_rule: str = '{}',
            target_rule: str = '{}',
            recursive: bool = False,
            mapping: Optional[str] = None) -> List[PairRecord]:
    """Any other dataset: a folder of rainy images, a folder of clean
    images and a pairing rule. The rain type is required.

    Layout::

        <src>/
          <input_dir>/[<sub>/]<rainy>.png     default input/
          <target_dir>/[<sub>/]<clean>.png    default target/ (may be the
                                              same folder as input_dir)

    Pairing, one of:

    * naming rules (default ``{}`` -> ``{}``, the same name): ``{}`` is the
      id shared by a rainy image and its clean image, ``*`` any text. E.g.
      ``{}_rain`` -> ``{}_clean``, ``rain-{}`` -> ``norain-{}`` (one folder
      for both), ``{}_*`` -> ``{}`` (many rainy images per clean image).
      With ``recursive``, sub-folders pair with the same sub-folder.
    * a mapping file: one ``<rainy> <clean>`` pair a line (tab, comma or
      spaces), paths relative to ``src``.

    Goes to: ``<split>/<rain_type>`` (``train`` unless given).
    """
    if rain_type is None:
        raise ValueError('generic: give the rain type of the pairs '
                         '(--rain-type DRS, DRD, NRS or NRD)')
    if mapping is not None:
        pairs = read_mapping(mapping, src)
    else:
        pairs = pair_folders(osp.join(src, input_dir),
                             osp.join(src, target_dir), input_rule,
                             target_rule, recursive)
    return make_records(pairs, src, source, rain_type, split)
