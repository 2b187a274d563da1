"""Per-type loss reweighting: strategies, the round schedule, the plot.

Pure numpy (plus mmengine's ``Registry``): importable without torch or
mmagic, so the replay tool and the plots start fast. The training side is
``unirain_mm.engine.hooks.ReweightingHook``.
"""
from .plot import plot_history
from .schedule import FLOOR_MODES, ReweightSchedule, RoundResult, apply_floor
from .strategies import (REWEIGHT_STRATEGIES, DWA, FAMO, CoBa,
                         ReweightStrategy, Uniform, build_strategy,
                         fit_slope, softmax)

__all__ = [
    'REWEIGHT_STRATEGIES', 'ReweightStrategy', 'Uniform', 'CoBa', 'DWA',
    'FAMO', 'build_strategy', 'fit_slope', 'softmax', 'ReweightSchedule',
    'RoundResult', 'FLOOR_MODES', 'apply_floor', 'plot_history'
]
