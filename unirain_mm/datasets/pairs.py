"""Paired-image records shared by the converters, the LMDB packer and the
distillation pipeline, and the tab-separated list file that carries them."""
import csv
import os
import os.path as osp
import re
from dataclasses import asdict, dataclass, fields
from typing import Iterable, List, Optional, Sequence

from unirain_mm.fileio import atomic_write_text
from unirain_mm.rain_types import RAIN_TYPES, rain_type_code

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')

_KEY_RE = re.compile(r'^[A-Za-z0-9_-]+$')


@dataclass(frozen=True)
class PairRecord:
    """One rainy/clean pair.

    Attributes:
        key (str): Unique name of the pair across all sources: letters,
            digits, ``_`` and ``-`` only (no ``/`` or ``.``), as BasicSR and
            mmagic LMDB readers require. Build it with :func:`make_key`.
        input_path (str): Rainy image file.
        target_path (str): Clean image file.
        rain_type (str): Type code (``'DRS'``, ``'DRD'``, ``'NRS'``,
            ``'NRD'``).
        source (str): Dataset the pair comes from, e.g. ``'rain13k'``.
        split (str): ``'train'``, ``'val'``, ``'test'`` or a benchmark name.
    """
    key: str
    input_path: str
    target_path: str
    rain_type: str
    source: str
    split: str = 'train'

    def __post_init__(self) -> None:
        check_key(self.key)
        object.__setattr__(self, 'rain_type', rain_type_code(self.rain_type))
        # meta_info.txt columns are separated by whitespace
        if not self.source or any(c.isspace() for c in self.source):
            raise ValueError(f'{self.key}: invalid source {self.source!r}: '
                             'give a non-empty name without spaces')


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid LMDB key, else raise ``ValueError``."""
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f'invalid key {key!r}: keys may hold only letters, '
                         'digits, "_" and "-" (no "/" or ".")')
    return key


def make_key(source: str, *parts: str) -> str:
    """Build a key unique across sources from a source name and the parts of
    a relative path, e.g. ``make_key('rain13k', 'Rain100H/rain-001.png')``
    -> ``'rain13k_Rain100H_rain-001'``.

    The extension of the last part is dropped; every character outside
    ``[A-Za-z0-9_-]`` (``/``, ``.``, spaces...) becomes ``_``.
    """
    if not parts:
        raise ValueError('make_key needs at least one part besides the '
                         'source')
    parts = list(parts)
    parts[-1] = osp.splitext(parts[-1])[0]
    raw = '_'.join([source] + [p.replace('\\', '/') for p in parts])
    return re.sub(r'_+', '_', re.sub(r'[^A-Za-z0-9_-]', '_', raw)).strip('_')


_COLUMNS = [f.name for f in fields(PairRecord)]


def write_pair_list(path: str, records: Iterable[PairRecord]) -> int:
    """Write records as a tab-separated list file (atomically).

    Paths are stored relative to the list file's folder when they lie under
    it, absolute otherwise. Returns the number of records written.
    """
    folder = osp.dirname(osp.abspath(path))
    lines = ['\t'.join(_COLUMNS)]
    for rec in records:
        row = asdict(rec)
        for col in ('input_path', 'target_path'):
            p = osp.abspath(row[col])
            rel = osp.relpath(p, folder)
            row[col] = p if rel.startswith('..') else rel
        if any('\t' in str(v) or '\n' in str(v) for v in row.values()):
            raise ValueError(f'{rec.key}: a field holds a tab or newline')
        lines.append('\t'.join(str(row[c]) for c in _COLUMNS))
    atomic_write_text(path, '\n'.join(lines) + '\n')
    return len(lines) - 1


def read_pair_list(path: str) -> List[PairRecord]:
    """Read a list file written by :func:`write_pair_list`.

    Raises:
        ValueError: naming the file and line, on a missing column, a bad key,
            an unknown rain type or a duplicate key.
    """
    folder = osp.dirname(osp.abspath(path))
    records, seen = [], {}
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f, delimiter='\t')
        missing = set(_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f'{path}: missing columns {sorted(missing)}; '
                             f'expected a header {_COLUMNS}')
        for line_no, row in enumerate(reader, start=2):
            try:
                rec = PairRecord(
                    key=row['key'],
                    input_path=osp.join(folder, row['input_path']),
                    target_path=osp.join(folder, row['target_path']),
                    rain_type=row['rain_type'],
                    source=row['source'],
                    split=row['split'])
            except ValueError as e:
                raise ValueError(f'{path}:{line_no}: {e}') from None
            if rec.key in seen:
                raise ValueError(f'{path}:{line_no}: duplicate key '
                                 f'{rec.key!r} (first at line '
                                 f'{seen[rec.key]})')
            seen[rec.key] = line_no
            records.append(rec)
    return records


def records_from_layout(data_root: str,
                        split: str,
                        rain_types: Sequence[str] = RAIN_TYPES,
                        source: Optional[str] = None,
                        input_dir: str = 'input',
                        target_dir: str = 'target') -> List[PairRecord]:
    """Pair every rainy image of ``<data_root>/<split>/<type>/<input_dir>``
    with the clean image of the same name in ``.../<target_dir>``.

    Keys are ``make_key(source, type, name)``; ``source`` defaults to the
    name of ``data_root`` (``data/demo`` -> ``demo_DRS_drs_train_0000``).

    Raises:
        FileNotFoundError: naming the folder that is missing or empty, or the
            rainy images without a clean image.
    """
    source = source or osp.basename(osp.normpath(data_root))
    records = []
    for rain_type in rain_types:
        rain_type = rain_type_code(rain_type)
        type_dir = osp.join(data_root, split, rain_type)
        folders = [osp.join(type_dir, d) for d in (input_dir, target_dir)]
        for folder in folders:
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'{folder} does not exist; expected the layout '
                    '<root>/<split>/<type>/{input,target}/ '
                    '(see data/README.md)')
        targets = {
            osp.splitext(f)[0]: f
            for f in os.listdir(folders[1])
            if f.lower().endswith(IMG_EXTENSIONS)
        }
        inputs = sorted(f for f in os.listdir(folders[0])
                        if f.lower().endswith(IMG_EXTENSIONS))
        if not inputs:
            raise FileNotFoundError(f'no images in {folders[0]}')
        missing = [f for f in inputs if osp.splitext(f)[0] not in targets]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} rainy images in {folders[0]} have no clean '
                f'image of the same name in {folders[1]}, e.g. {missing[:3]}')
        for name in inputs:
            stem = osp.splitext(name)[0]
            records.append(
                PairRecord(
                    key=make_key(source, rain_type, stem),
                    input_path=osp.join(folders[0], name),
                    target_path=osp.join(folders[1], targets[stem]),
                    rain_type=rain_type,
                    source=source,
                    split=split))
    return records
