from .hooks import (REWEIGHT_STRATEGIES, AverageMetricsHook,
                    CollectMetricsHook, CoBa, DWA, FAMO, ReweightingHook,
                    ReweightStrategy, Uniform, build_strategy, plot_history,
                    register_strategy)

__all__ = [
    'AverageMetricsHook', 'CollectMetricsHook', 'ReweightingHook',
    'ReweightStrategy', 'Uniform', 'CoBa', 'DWA', 'FAMO',
    'REWEIGHT_STRATEGIES', 'build_strategy', 'register_strategy',
    'plot_history'
]
