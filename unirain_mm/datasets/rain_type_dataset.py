"""Paired rainy/clean images in the ``<root>/<split>/<type>/{input,target}``
layout, labelled with their rain type."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmagic.registry import DATASETS

from unirain_mm.rain_types import RAIN_TYPES, rain_type_id

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


@DATASETS.register_module()
class RainTypeDataset(BaseDataset):
    """Rainy/clean pairs of one or more rain types from a folder tree.

    Layout (the demo data and the converters write it)::

        data_root/
          <split>/<type>/input/<name>.png    rainy image
          <split>/<type>/target/<name>.png   clean image, same file name

    Each sample carries ``img_path``, ``gt_path``, ``key`` (``<type>/<name>``
    without extension), ``rain_type`` and ``gt_label`` (the type id in
    :data:`RAIN_TYPES`, which the loss groups by).

    Args:
        data_root (str): Root folder.
        split (str): Sub-folder, e.g. ``'train'`` or ``'test'``.
        rain_types (Sequence[str]): Types to include. Defaults to all four.
        input_dir (str): Name of the rainy-image folder.
        target_dir (str): Name of the clean-image folder.
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
                 pipeline: Optional[Sequence[dict]] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.split = split
        self.rain_types = tuple(rain_types)
        for t in self.rain_types:
            rain_type_id(t)  # fail fast on a typo
        self.input_dir = input_dir
        self.target_dir = target_dir
        super().__init__(
            data_root=data_root,
            pipeline=list(pipeline or []),
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Pair every rainy image with the clean image of the same name."""
        data_list = []
        for rain_type in self.rain_types:
            type_dir = osp.join(self.data_root, self.split, rain_type)
            input_dir = osp.join(type_dir, self.input_dir)
            target_dir = osp.join(type_dir, self.target_dir)
            for folder in (input_dir, target_dir):
                if not osp.isdir(folder):
                    raise FileNotFoundError(
                        f'{folder} does not exist; expected the layout '
                        '<root>/<split>/<type>/{input,target}/ (see README, '
                        '"Data")')
            targets = {
                osp.splitext(f)[0]: f
                for f in os.listdir(target_dir)
                if f.lower().endswith(IMG_EXTENSIONS)
            }
            inputs = sorted(f for f in os.listdir(input_dir)
                            if f.lower().endswith(IMG_EXTENSIONS))
            if not inputs:
                raise FileNotFoundError(f'no images in {input_dir}')
            missing = [f for f in inputs if osp.splitext(f)[0] not in targets]
            if missing:
                raise FileNotFoundError(
                    f'{len(missing)} rainy images in {input_dir} have no '
                    f'clean image of the same name in {target_dir}, e.g. '
                    f'{missing[:3]}')
            for name in inputs:
                stem = osp.splitext(name)[0]
                data_list.append(
                    dict(
                        key=f'{rain_type}/{stem}',
                        img_path=osp.join(input_dir, name),
                        gt_path=osp.join(target_dir, targets[stem]),
                        rain_type=rain_type,
                        gt_label=rain_type_id(rain_type)))
        return data_list
