"""Clean photographs for training with online rain synthesis."""
import fnmatch
import json
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmagic.registry import DATASETS

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp')
MANIFEST = 'manifest.json'


@DATASETS.register_module()
class CleanPhotoDataset(BaseDataset):
    """Clean images in one folder; the pipeline rains on them
    (``SynthesizeRain``).

    The folder is typically the output of
    ``tools/misc/collect_clean_photos.py``: when it holds a
    ``manifest.json`` (a list of ``{"file": ..., "source": ...}``), exactly
    the files it lists are used, so stray files are ignored and a missing one
    is an error; otherwise every image file in the folder is used.

    Each sample carries ``gt_path`` (load it with
    ``LoadImageFromFile(key='gt')``), ``key`` (the file name without
    extension) and ``source``.

    Args:
        data_root (str): Folder of the photos.
        exclude (Sequence[str]): ``fnmatch`` patterns of file names to leave
            out, e.g. photos held out for a test split.
        pipeline (Sequence[dict]): Data transforms.
        **kwargs: Other :class:`BaseDataset` arguments.
    """

    METAINFO = dict(dataset_type='clean_photo_dataset', task_name='deraining')

    def __init__(self,
                 data_root: str,
                 exclude: Sequence[str] = (),
                 pipeline: Optional[Sequence[dict]] = None,
                 **kwargs) -> None:
        self.exclude = tuple(exclude)
        super().__init__(
            data_root=data_root, pipeline=list(pipeline or []), **kwargs)

    def _listed_files(self) -> List[dict]:
        manifest = osp.join(self.data_root, MANIFEST)
        if osp.isfile(manifest):
            with open(manifest, encoding='utf-8') as f:
                entries = json.load(f)
            if not isinstance(entries, list) or not all(
                    isinstance(e, dict) and 'file' in e for e in entries):
                raise ValueError(f'{manifest}: expected a list of objects '
                                 'with a "file" key')
            return [dict(file=e['file'], source=e.get('source', ''))
                    for e in entries]
        names = sorted(n for n in os.listdir(self.data_root)
                       if n.lower().endswith(IMAGE_EXTENSIONS))
        return [dict(file=n, source='') for n in names]

    def load_data_list(self) -> List[dict]:
        """List the photos, minus the excluded ones."""
        if not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'no clean-photo folder {self.data_root!r}: collect one with '
                f'python tools/misc/collect_clean_photos.py {self.data_root}')
        data_list = []
        for entry in self._listed_files():
            name = entry['file']
            if any(fnmatch.fnmatch(name, p) for p in self.exclude):
                continue
            path = osp.join(self.data_root, name)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{osp.join(self.data_root, MANIFEST)} lists {name!r}, '
                    f'which is missing from {self.data_root}')
            data_list.append(
                dict(gt_path=path, key=osp.splitext(name)[0],
                     source=entry['source']))
        if not data_list:
            raise ValueError(
                f'no clean photos in {self.data_root!r} (after excluding '
                f'{list(self.exclude)}): collect them with python '
                f'tools/misc/collect_clean_photos.py {self.data_root}')
        return data_list
