from .editors import UniRain, UniRainNet

__all__ = ['UniRain', 'UniRainNet']
