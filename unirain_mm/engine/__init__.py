from .hooks import (REWEIGHT_STRATEGIES, AverageMetricsHook,
                    CollectMetricsHook, CoBa, DWA, FAMO, ReweightingHook,
                    ReweightStrategy, SaveImagesHook, Uniform, build_strategy,
                    plot_history, register_strategy)

__all__ = [
    'AverageMetricsHook', 'CollectMetricsHook', 'ReweightingHook',
    'SaveImagesHook', 'ReweightStrategy', 'Uniform', 'CoBa', 'DWA', 'FAMO',
    'REWEIGHT_STRATEGIES', 'build_strategy', 'register_strategy',
    'plot_history'
]
