from .average_metrics_hook import AverageMetricsHook
from .collect_metrics_hook import CollectMetricsHook
from .reweighting_hook import ReweightingHook
from .save_images_hook import SaveImagesHook

__all__ = [
    'AverageMetricsHook', 'CollectMetricsHook', 'ReweightingHook',
    'SaveImagesHook'
]
