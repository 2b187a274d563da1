"""Keeps the metrics of the last test run (mmagic's MultiTestLoop returns
nothing from ``runner.test()``)."""
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmagic.registry import HOOKS


@HOOKS.register_module()
class CollectMetricsHook(Hook):
    """Store ``after_test_epoch`` metrics in :attr:`metrics` as floats.

    Runs last (LOWEST), so averages added by :class:`AverageMetricsHook` are
    included.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics: Dict[str, float] = {}

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        self.metrics = {k: float(v) for k, v in (metrics or {}).items()}
