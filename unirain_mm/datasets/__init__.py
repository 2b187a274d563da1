"""Datasets, transforms and data synthesis of UniRain-MM."""
from .rain_type_dataset import RainTypeDataset

__all__ = ['RainTypeDataset']
