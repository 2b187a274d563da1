from .hooks import (AverageMetricsHook, CollectMetricsHook, ReweightingHook,
                    SaveImagesHook)

__all__ = [
    'AverageMetricsHook', 'CollectMetricsHook', 'ReweightingHook',
    'SaveImagesHook'
]
