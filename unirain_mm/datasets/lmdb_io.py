"""The LMDB pair layout shared by the packer and the dataset.

``lmdb_pack`` writes, and ``PairedLmdbDataset`` reads, two databases in
BasicSR's layout (see :mod:`unirain_mm.datasets.lmdb_pack`): the folder
names, the ``meta_info.txt`` format and how environments are opened live
here, so that neither of the two modules imports the other. Imports neither
torch nor mmagic.
"""
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional

import lmdb

from unirain_mm.datasets.pairs import check_key

DB_NAMES = ('input.lmdb', 'target.lmdb')
META_FILE = 'meta_info.txt'
_MAP_SIZE = 1 << 40  # address space only: LMDB files grow as data is written


class MetaLine(NamedTuple):
    """One line of ``meta_info.txt``."""
    key: str
    shape: tuple
    compress_level: int
    rain_type: Optional[str] = None
    source: Optional[str] = None

    def format(self) -> str:
        shape = ','.join(str(s) for s in self.shape)
        cols = [f'{self.key}.png', f'({shape})', str(self.compress_level)]
        if self.rain_type is not None:
            cols += [self.rain_type, self.source or '-']
        return ' '.join(cols)


def read_meta_info(path: str) -> List[MetaLine]:
    """Parse a ``meta_info.txt`` (ours, or BasicSR's three columns).

    Raises:
        ValueError: naming the file and line of a malformed line.
    """
    lines = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, start=1):
            cols = line.split()
            if not cols:
                continue
            try:
                name, shape, level = cols[:3]
                key = check_key(name.rsplit('.', 1)[0])
                shape = tuple(int(s) for s in shape.strip('()').split(','))
                lines.append(
                    MetaLine(key, shape, int(level),
                             cols[3] if len(cols) > 3 else None,
                             cols[4] if len(cols) > 4 else None))
            except ValueError as e:
                raise ValueError(f'{path}:{line_no}: malformed meta_info line '
                                 f'{line.strip()!r} ({e})') from None
    return lines


def open_env(db_path: str, write: bool = False) -> lmdb.Environment:
    """Open an LMDB environment (readers: no lock, no readahead)."""
    if write:
        return lmdb.open(db_path, map_size=_MAP_SIZE, max_dbs=2)
    return lmdb.open(db_path, readonly=True, lock=False, readahead=False,
                     meminit=False, max_dbs=2)


# one environment per database per process: LMDB forbids opening the same
# file twice in a process, and a handle inherited through fork is unusable
_ENVS: Dict[str, lmdb.Environment] = {}
_ENVS_PID: Optional[int] = None
_INHERITED: List[lmdb.Environment] = []  # parent's handles, kept unclosed


def get_env(db_path: str) -> lmdb.Environment:
    """The read-only environment of ``db_path`` for this process, opened on
    first use (so a DataLoader worker opens its own after the fork)."""
    global _ENVS_PID
    if _ENVS_PID != os.getpid():
        _INHERITED.extend(_ENVS.values())  # closing them could hurt the parent
        _ENVS.clear()
        _ENVS_PID = os.getpid()
    real = osp.realpath(db_path)
    if real not in _ENVS:
        _ENVS[real] = open_env(real)
    return _ENVS[real]


def read_lmdb(db_path: str, key: str) -> Optional[bytes]:
    """The value of ``key`` in the database at ``db_path`` (None if absent)."""
    with get_env(db_path).begin(buffers=False) as txn:
        return txn.get(key.encode('ascii'))
