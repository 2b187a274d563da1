"""Datasets, transforms, samplers and data tooling of UniRain-MM.

The package imports lazily: ``unirain_mm.datasets.rain_synthesis``, the
converters and the LMDB packer need neither torch nor mmagic, so importing
them must not pull in the registered classes below. Those load on first
access (``from unirain_mm.datasets import RainTypeDataset``) and are
registered by :func:`unirain_mm.register_all_modules`.
"""
import importlib
from typing import Any

_LAZY = {
    'CleanPhotoDataset': 'clean_photo_dataset',
    'PairedLmdbDataset': 'lmdb_dataset',
    'ManifestSubset': 'manifest_subset',
    'RainTypeDataset': 'rain_type_dataset',
    'TypeBalancedSampler': 'samplers',
    'LoadRainPair': 'transforms',
    'SynthesizeRain': 'transforms',
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(
            f'module {__name__!r} has no attribute {name!r}')
    module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
    return getattr(module, name)
