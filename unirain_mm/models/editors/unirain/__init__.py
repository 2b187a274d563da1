from .moe import HardMoE, RouteInfo, Router, SoftMoE, load_balance_loss
from .unirain import UniRain
from .unirain_net import UniRainNet

__all__ = [
    'UniRain', 'UniRainNet', 'SoftMoE', 'HardMoE', 'Router',
    'RouteInfo', 'load_balance_loss'
]
