from .hooks import AverageMetricsHook

__all__ = ['AverageMetricsHook']
