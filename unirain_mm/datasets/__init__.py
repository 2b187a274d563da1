"""Datasets, transforms, samplers and data tooling of UniRain-MM."""
from .lmdb_dataset import PairedLmdbDataset
from .manifest_subset import ManifestSubset
from .rain_type_dataset import RainTypeDataset
from .samplers import TypeBalancedSampler
from .transforms import LoadRainPair, SynthesizeRain

__all__ = [
    'ManifestSubset', 'PairedLmdbDataset', 'RainTypeDataset',
    'TypeBalancedSampler', 'LoadRainPair', 'SynthesizeRain'
]
