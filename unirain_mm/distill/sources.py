"""Where the queries (paired images) and the knowledge-base photos come
from, as named in the config.

Query sources (``queries = [...]``)::

    dict(type='PairList', path='data/lists/rain13k_train.tsv')
    dict(type='PairFolder', root='data/demo', split='train', source='demo',
         rain_types=['DRS', 'NRD'])  # <root>/<split>/<type>/{input,target}
                                     # (records_from_layout's arguments)

Photo sources (``kb.sources = [...]``), unpaired real rainy photos::

    dict(type='ImageFolder', root='data/real_rain', source='realrain',
         pattern='**/*')                     # every image below root
    dict(type='ImageList', path='lists/real.txt', source='realrain')
"""
import glob
import os.path as osp
from typing import List, Sequence, Tuple

from unirain_mm.datasets.pairs import (IMG_EXTENSIONS, PairRecord, make_key,
                                       read_pair_list, records_from_layout)


def _check_unique(items, key_of, what: str) -> None:
    seen = {}
    for item in items:
        key = key_of(item)
        if key in seen:
            raise ValueError(f'duplicate {what} key {key!r}: {seen[key]} and '
                             f'{item}')
        seen[key] = item


def load_queries(specs: Sequence[dict]) -> List[PairRecord]:
    """All query pairs of the config's sources, sorted by key.

    Raises:
        ValueError: On an unknown source type or a key that two pairs share.
    """
    records = []
    for spec in specs:
        spec = dict(spec)
        kind = spec.pop('type')
        if kind == 'PairList':
            records += read_pair_list(spec['path'])
        elif kind == 'PairFolder':
            records += records_from_layout(spec.pop('root'), **spec)
        else:
            raise ValueError(f'unknown query source type {kind!r}: use '
                             'PairList or PairFolder')
    _check_unique(records, lambda r: r.key, 'pair')
    return sorted(records, key=lambda r: r.key)


def load_photos(specs: Sequence[dict]) -> List[Tuple[str, str]]:
    """``(key, path)`` of every knowledge-base photo, sorted by key. Keys
    are ``make_key(source, <path relative to the root or list>)``."""
    photos = []
    for spec in specs:
        spec = dict(spec)
        kind, source = spec.pop('type'), spec.pop('source')
        if kind == 'ImageFolder':
            root = spec['root']
            paths = glob.glob(osp.join(root, spec.get('pattern', '**/*')),
                              recursive=True)
        elif kind == 'ImageList':
            root = osp.dirname(osp.abspath(spec['path']))
            with open(spec['path'], encoding='utf-8') as f:
                paths = [osp.join(root, line.strip()) for line in f
                         if line.strip()]
        else:
            raise ValueError(f'unknown photo source type {kind!r}: use '
                             'ImageFolder or ImageList')
        paths = [p for p in paths if p.lower().endswith(IMG_EXTENSIONS)]
        if not paths:
            raise FileNotFoundError(f'photo source {kind} {spec} holds no '
                                    'images')
        photos += [(make_key(source, osp.relpath(p, root)), p)
                   for p in paths]
    _check_unique(photos, lambda p: p[0], 'photo')
    return sorted(photos)
