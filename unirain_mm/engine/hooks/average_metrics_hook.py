"""Adds averages over test sets to prefixed evaluation metrics."""
from collections import defaultdict
from typing import Dict, Optional, Sequence

from mmengine.hooks import Hook
from mmagic.registry import HOOKS


@HOOKS.register_module()
class AverageMetricsHook(Hook):
    """Add ``<prefix>/<metric>`` = mean of ``<set>/<metric>`` over sets.

    mmagic's MultiValLoop/MultiTestLoop name metrics ``<test set>/<metric>``.
    This hook adds their unweighted mean over the test sets, e.g.
    ``Avg/PSNR``, so that ``CheckpointHook(save_best='Avg/PSNR')`` keeps the
    best checkpoint over all rain types. It runs at NORMAL priority, before
    the logger and the checkpoint hook read the metrics.

    Args:
        prefix (str): Prefix of the average keys.
        metrics (Sequence[str], optional): Metric names to average. All
            metrics found in two or more sets if None.
    """

    priority = 'NORMAL'

    def __init__(self,
                 prefix: str = 'Avg',
                 metrics: Optional[Sequence[str]] = None) -> None:
        self.prefix = prefix
        self.metrics = None if metrics is None else tuple(metrics)

    def add_averages(self, metrics: Optional[Dict[str, float]]) -> Dict:
        """Insert the average keys into ``metrics`` in place.

        Returns:
            dict: The keys added.
        """
        added: Dict[str, float] = {}
        if not metrics:
            return added
        values = defaultdict(list)
        for key, value in metrics.items():
            if '/' not in key or key.startswith(self.prefix + '/'):
                continue
            name = key.rsplit('/', 1)[1]
            if self.metrics is None or name in self.metrics:
                values[name].append(float(value))
        for name, vals in values.items():
            if self.metrics is not None or len(vals) > 1:
                added[f'{self.prefix}/{name}'] = sum(vals) / len(vals)
        metrics.update(added)
        return added

    def _publish(self, runner, mode: str, metrics) -> None:
        # The logger reads the message hub, not the metrics dict.
        for key, value in self.add_averages(metrics).items():
            runner.message_hub.update_scalar(f'{mode}/{key}', value)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._publish(runner, 'val', metrics)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._publish(runner, 'test', metrics)
