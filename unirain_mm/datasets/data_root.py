"""One data root for every loader of a config.

A config names its data folder once, ``data_root``; the datasets of its
training, validation and test loaders lie below it
(``<data_root>/<split>/<type>/`` folders, the packed training pairs in
``<data_root>/lmdb/train``). mmengine fills values in when it reads a file,
so the per-type loader lists of ``configs/_base_/datasets/unirain_4types.py``
keep the root they were written with, which the base records as
``loaders_root``. :func:`set_data_root` moves every dataset below that root,
or below the config's own ``data_root``, to one new root.
``tools/train.py`` and ``tools/test.py`` call it with ``--data-root DIR`` or
``--cfg-options data_root=DIR``, and otherwise with the config's
``data_root`` (so a config that inherits the loaders only sets
``data_root``, as ``configs/unirain/unirain_demo_cpu.py`` does).

:func:`rain_type_loader` is the one evaluation loader of a rain type folder,
used by :mod:`unirain_mm.evaluation.benchmark_cfg` (the base config builds
the same dicts, as configs cannot import it).
"""
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

#: The config fields that hold loaders (a dict, or a list for Multi*Loop).
LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def rain_type_loader(data_root: str,
                     split: str,
                     rain_type: str,
                     pipeline: Sequence[dict],
                     num_workers: int = 2) -> dict:
    """The loader config of one evaluation set, in order, batch 1 (images
    of any size), over ``<data_root>/<split>/<rain_type>/{input,target}/``.

    Args:
        data_root (str): The data root.
        split (str): ``val``, ``test`` or a converted benchmark's folder.
        rain_type (str): The type code of every pair (``gt_label``).
        pipeline (Sequence[dict]): The test pipeline.
        num_workers (int): Data loading workers.

    Returns:
        dict: A ``RainTypeDataset`` loader config.
    """
    return dict(
        batch_size=1,
        num_workers=num_workers,
        persistent_workers=False,
        drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='RainTypeDataset',
            data_root=data_root,
            split=split,
            rain_types=[rain_type],
            test_mode=True,
            pipeline=list(pipeline)))


def _nested(dataset: dict) -> Iterator[dict]:
    """``dataset`` and the datasets it wraps (``dataset``/``datasets``)."""
    yield dataset
    inner = dataset.get('dataset')
    if isinstance(inner, dict):
        yield from _nested(inner)
    for inner in dataset.get('datasets') or []:
        if isinstance(inner, dict):
            yield from _nested(inner)


def dataset_configs(cfg) -> List[Tuple[str, dict]]:
    """``(where, dataset config)`` of every dataset of the loaders, wrapped
    ones included, e.g. ``('val_dataloader[2]', {...})``. The dicts are the
    config's own, so changing them changes ``cfg``."""
    found = []
    for key in LOADER_KEYS:
        loaders = cfg.get(key)
        if isinstance(loaders, dict):
            items = [(key, loaders)]
        elif isinstance(loaders, (list, tuple)):
            items = [(f'{key}[{i}]', loader)
                     for i, loader in enumerate(loaders)]
        else:
            continue
        for where, loader in items:
            if isinstance(loader, dict) and isinstance(
                    loader.get('dataset'), dict):
                found += [(where, d) for d in _nested(loader['dataset'])]
    return found


def relocate(path: str, old_root: str, new_root: str) -> Optional[str]:
    """``path`` moved from below ``old_root`` to the same place below
    ``new_root``; None when ``path`` is neither ``old_root`` nor below it
    (compared as normalised absolute paths)."""
    rel = osp.relpath(osp.abspath(path), osp.abspath(old_root))
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return new_root if rel == os.curdir else osp.join(new_root, rel)


def set_data_root(cfg, data_root: Optional[str] = None) -> List[str]:
    """Point every dataset of the loaders of ``cfg`` at one data root.

    A dataset whose ``data_root`` is, or lies below, the root the loaders
    were written with (``cfg.loaders_root``) or the config's ``data_root``
    moves to the same place below the new root (the deeper of the two
    decides when both contain it). Then ``cfg.data_root`` (and
    ``cfg.loaders_root``, if set) is the new root.

    Args:
        cfg (Config): The config, changed in place.
        data_root (str, optional): The new root. Default: the config's
            ``data_root``, which applies a config's own ``data_root`` to the
            loaders it inherits.

    Returns:
        list[str]: ``'<loader>: <path>'`` of each dataset left where it is,
        because it lies below neither root.

    Raises:
        ValueError: ``data_root`` is given but the config has none to
            replace.
    """
    old_roots = [r for r in (cfg.get('loaders_root'), cfg.get('data_root'))
                 if isinstance(r, str)]
    if not old_roots:
        if data_root is not None:
            raise ValueError(
                'the config has no data_root, so there is no data root to '
                'replace; give the datasets\' data_root in the config')
        return []
    new_root = cfg.get('data_root') if data_root is None else data_root
    # the deeper root first: its datasets keep their place below it
    old_roots.sort(key=lambda r: len(osp.abspath(r)), reverse=True)
    left = []
    for where, dataset in dataset_configs(cfg):
        path = dataset.get('data_root')
        if not isinstance(path, str):
            continue
        for old in old_roots:
            moved = relocate(path, old, new_root)
            if moved is not None:
                dataset['data_root'] = moved
                break
        else:
            left.append(f'{where}: {path}')
    cfg.data_root = new_root
    if 'loaders_root' in cfg:
        cfg.loaders_root = new_root
    return left
