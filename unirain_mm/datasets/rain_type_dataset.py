"""Paired rainy/clean images in the ``<root>/<split>/<type>/{input,target}``
layout, labelled with their rain type."""
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmagic.registry import DATASETS

from unirain_mm.datasets.pairs import records_from_layout
from unirain_mm.rain_types import RAIN_TYPES, rain_type_id


@DATASETS.register_module()
class RainTypeDataset(BaseDataset):
    """Rainy/clean pairs of one or more rain types from a folder tree.

    Layout (the demo data and the converters write it)::

        data_root/
          <split>/<type>/input/<name>.png    rainy image
          <split>/<type>/target/<name>.png   clean image, same file name

    Each sample carries ``img_path``, ``gt_path``, ``key``
    (``<source>_<type>_<name>``, see
    :func:`~unirain_mm.datasets.pairs.records_from_layout`), ``source``,
    ``rain_type`` and ``gt_label`` (the type id in :data:`RAIN_TYPES`, which
    the loss groups by).

    Args:
        data_root (str): Root folder.
        split (str): Sub-folder, e.g. ``'train'`` or ``'test'``.
        rain_types (Sequence[str]): Types to include. Defaults to all four.
        input_dir (str): Name of the rainy-image folder.
        target_dir (str): Name of the clean-image folder.
        source (str, optional): Source name in keys and samples; defaults to
            the name of ``data_root``.
        pipeline (Sequence[dict]): Data transforms.
        test_mode (bool): Passed to :class:`BaseDataset`.
        **kwargs: Other :class:`BaseDataset` arguments.
    """

    METAINFO = dict(dataset_type='rain_type_dataset', task_name='deraining')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 rain_types: Sequence[str] = RAIN_TYPES,
                 input_dir: str = 'input',
                 target_dir: str = 'target',
                 source: Optional[str] = None,
                 pipeline: Optional[Sequence[dict]] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.split = split
        self.rain_types = tuple(rain_types)
        for t in self.rain_types:
            rain_type_id(t)  # fail fast on a typo
        self.input_dir = input_dir
        self.target_dir = target_dir
        self.source = source
        super().__init__(
            data_root=data_root,
            pipeline=list(pipeline or []),
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Pair every rainy image with the clean image of the same name."""
        return [
            dict(
                key=rec.key,
                img_path=rec.input_path,
                gt_path=rec.target_path,
                rain_type=rec.rain_type,
                gt_label=rain_type_id(rec.rain_type),
                source=rec.source)
            for rec in records_from_layout(
                self.data_root, self.split, self.rain_types, self.source,
                self.input_dir, self.target_dir)
        ]
