"""Where the queries (paired images) and the knowledge-base photos come
from, as named in the config and built from :data:`QUERY_SOURCES` and
:data:`PHOTO_SOURCES`.

Query sources (``queries = [...]``)::

    dict(type='PairList', path='data/lists/rain13k_train.tsv')
    dict(type='PairFolder', root='data/demo', split='train', source='demo',
         rain_types=['DRS', 'NRD'])  # <root>/<split>/<type>/{input,target}
                                     # (records_from_layout's arguments)

Photo sources (``kb.sources = [...]``), unpaired real rainy photos::

    dict(type='ImageFolder', root='data/real_rain', source='realrain',
         pattern='**/*')                     # every image below root
    dict(type='ImageList', path='lists/real.txt', source='realrain')

A new kind of source is a class registered in one of the two registries:
a query source has ``records() -> List[PairRecord]``, a photo source
``source``, ``root`` and ``paths() -> List[str]``.
"""
import glob
import os.path as osp
from typing import Callable, List, Sequence, Tuple

from mmengine.registry import Registry

from unirain_mm.datasets.pairs import (IMG_EXTENSIONS, PairRecord, make_key,
                                       read_pair_list, records_from_layout)
from .registry import PHOTO_SOURCES, QUERY_SOURCES


@QUERY_SOURCES.register_module()
class PairList:
    """The pairs of a list file written by the converters.

    Args:
        path (str): The list file (see
            :func:`~unirain_mm.datasets.pairs.write_pair_list`).
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def records(self) -> List[PairRecord]:
        return read_pair_list(self.path)


@QUERY_SOURCES.register_module()
class PairFolder:
    """The pairs of a folder in the project's layout,
    ``<root>/<split>/<type>/{input,target}/``.

    Args:
        root (str): The data root.
        **layout: ``split``, ``rain_types``, ``source``, ``input_dir`` and
            ``target_dir`` of
            :func:`~unirain_mm.datasets.pairs.records_from_layout`.
    """

    def __init__(self, root: str, **layout) -> None:
        self.root = root
        self.layout = layout

    def records(self) -> List[PairRecord]:
        return records_from_layout(self.root, **self.layout)


@PHOTO_SOURCES.register_module()
class ImageFolder:
    """Every image below ``root`` that ``pattern`` matches (recursive glob).

    Args:
        root (str): The folder; keys are made from paths relative to it.
        source (str): Name of the source, the first part of every key.
        pattern (str): Glob pattern relative to ``root``.
    """

    def __init__(self, root: str, source: str,
                 pattern: str = '**/*') -> None:
        self.root, self.source, self.pattern = root, source, pattern

    def paths(self) -> List[str]:
        return glob.glob(osp.join(self.root, self.pattern), recursive=True)


@PHOTO_SOURCES.register_module()
class ImageList:
    """The images of a list file, one path per line, relative to the list.

    Args:
        path (str): The list file.
        source (str): Name of the source, the first part of every key.
    """

    def __init__(self, path: str, source: str) -> None:
        self.path, self.source = path, source
        self.root = osp.dirname(osp.abspath(path))

    def paths(self) -> List[str]:
        with open(self.path, encoding='utf-8') as f:
            return [osp.join(self.root, line.strip()) for line in f
                    if line.strip()]


def _build(registry: Registry, spec: dict, what: str):
    kind = spec.get('type') if isinstance(spec, dict) else None
    if kind not in registry.module_dict:
        raise ValueError(f'unknown {what} source type {kind!r} in {spec}: '
                         f'use one of {", ".join(registry.module_dict)}')
    return registry.build(spec)


def _check_unique(items, key_of: Callable, what: str) -> None:
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
        records += _build(QUERY_SOURCES, spec, 'query').records()
    _check_unique(records, lambda r: r.key, 'pair')
    return sorted(records, key=lambda r: r.key)


def load_photos(specs: Sequence[dict]) -> List[Tuple[str, str]]:
    """``(key, path)`` of every knowledge-base photo, sorted by key. Keys
    are ``make_key(source, <path relative to the source's root>)``.

    Raises:
        ValueError: On an unknown source type or a key that two photos share.
        FileNotFoundError: A source holds no images.
    """
    photos = []
    for spec in specs:
        source = _build(PHOTO_SOURCES, spec, 'photo')
        paths = [p for p in source.paths()
                 if p.lower().endswith(IMG_EXTENSIONS)]
        if not paths:
            raise FileNotFoundError(f'photo source {spec} holds no images')
        photos += [(make_key(source.source, osp.relpath(p, source.root)), p)
                   for p in paths]
    _check_unique(photos, lambda p: p[0], 'photo')
    return sorted(photos)
