from .unirain import UniRain, UniRainNet

__all__ = ['UniRain', 'UniRainNet']
