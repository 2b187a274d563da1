"""Rainy/clean pairs read from a pair of LMDBs written by ``lmdb_pack``."""
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmagic.registry import DATASETS

from unirain_mm.datasets.lmdb_io import DB_NAMES, META_FILE, read_meta_info
from unirain_mm.rain_types import RAIN_TYPES, rain_type_code, rain_type_id


@DATASETS.register_module()
class PairedLmdbDataset(BaseDataset):
    """Pairs packed by ``tools/dataset_converters/pack_lmdb.py``.

    Layout::

        data_root/input.lmdb/{data.mdb,lock.mdb,meta_info.txt}
        data_root/target.lmdb/{data.mdb,lock.mdb,meta_info.txt}

    ``meta_info.txt`` lines carry the key, shape, compression, rain type and
    source (see :mod:`unirain_mm.datasets.lmdb_pack`). Each sample carries
    ``key``, ``img_lmdb``/``gt_lmdb`` (database folders), ``img_path``/
    ``gt_path`` (``<db>/<key>.png``, for naming outputs), ``rain_type``,
    ``gt_label`` and ``source``; :class:`LoadRainPair` reads the images.
    Databases are opened lazily, once per process.

    Args:
        data_root (str): Folder holding ``input.lmdb`` and ``target.lmdb``.
        rain_types (Sequence[str], optional): Keep only these types.
        sources (Sequence[str], optional): Keep only these sources.
        rain_type (str, optional): Type of every pair, for a database packed
            without the type column (BasicSR's own ``meta_info.txt``).
        pipeline (Sequence[dict]): Data transforms.
        test_mode (bool): Passed to :class:`BaseDataset`.
        **kwargs: Other :class:`BaseDataset` arguments.
    """

    METAINFO = dict(dataset_type='paired_lmdb_dataset',
                    task_name='deraining')

    def __init__(self,
                 data_root: str,
                 rain_types: Optional[Sequence[str]] = None,
                 sources: Optional[Sequence[str]] = None,
                 rain_type: Optional[str] = None,
                 pipeline: Optional[Sequence[dict]] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.rain_types = None if rain_types is None else {
            rain_type_code(t) for t in rain_types}
        self.sources = None if sources is None else set(sources)
        self.default_type = None if rain_type is None else rain_type_code(
            rain_type)
        super().__init__(
            data_root=data_root,
            pipeline=list(pipeline or []),
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read both ``meta_info.txt`` files; check they list one key set."""
        db_paths = [osp.join(self.data_root, name) for name in DB_NAMES]
        metas = []
        for db in db_paths:
            meta = osp.join(db, META_FILE)
            if not osp.isfile(meta):
                hint = ('the database is unfinished: run the packer again to '
                        'resume it' if osp.isdir(db) else
                        'pack one with tools/dataset_converters/pack_lmdb.py')
                raise FileNotFoundError(f'{meta} not found; {hint}')
            metas.append(read_meta_info(meta))
        in_keys = [m.key for m in metas[0]]
        gt_keys = {m.key for m in metas[1]}
        if set(in_keys) != gt_keys:
            diff = sorted(set(in_keys) ^ gt_keys)
            raise ValueError(f'{db_paths[0]} and {db_paths[1]} list different '
                             f'keys ({len(diff)} differ, e.g. {diff[:3]})')
        data_list = []
        for m in metas[0]:
            code = m.rain_type or self.default_type
            if code is None:
                raise ValueError(
                    f'{db_paths[0]}/{META_FILE}: {m.key} has no rain type '
                    'column; pass rain_type= for a single-type database')
            code = rain_type_code(code)
            if self.rain_types is not None and code not in self.rain_types:
                continue
            if self.sources is not None and m.source not in self.sources:
                continue
            data_list.append(
                dict(
                    key=m.key,
                    img_lmdb=db_paths[0],
                    gt_lmdb=db_paths[1],
                    img_path=osp.join(db_paths[0], f'{m.key}.png'),
                    gt_path=osp.join(db_paths[1], f'{m.key}.png'),
                    rain_type=code,
                    gt_label=rain_type_id(code),
                    source=m.source))
        if not data_list:
            raise ValueError(f'no pairs in {self.data_root} match rain_types='
                             f'{sorted(self.rain_types or RAIN_TYPES)} and '
                             f'sources={self.sources}')
        return data_list
