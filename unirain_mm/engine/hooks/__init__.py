from .average_metrics_hook import AverageMetricsHook

__all__ = ['AverageMetricsHook']
