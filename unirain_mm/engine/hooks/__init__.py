from .average_metrics_hook import AverageMetricsHook
from .collect_metrics_hook import CollectMetricsHook
from .reweighting import (REWEIGHT_STRATEGIES, CoBa, DWA, FAMO,
                          ReweightStrategy, Uniform, build_strategy,
                          register_strategy)
from .reweighting_hook import ReweightingHook, plot_history
from .save_images_hook import SaveImagesHook

__all__ = [
    'AverageMetricsHook', 'CollectMetricsHook', 'ReweightingHook',
    'SaveImagesHook', 'ReweightStrategy', 'Uniform',
    'CoBa', 'DWA', 'FAMO', 'REWEIGHT_STRATEGIES', 'build_strategy',
    'register_strategy', 'plot_history'
]
