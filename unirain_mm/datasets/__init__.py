"""Datasets, transforms and data synthesis of UniRain-MM."""
from .rain_type_dataset import RainTypeDataset
from .transforms import SynthesizeRain

__all__ = ['RainTypeDataset', 'SynthesizeRain']
