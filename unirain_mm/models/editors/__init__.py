from .tiled_edit_model import TiledEditModel
from .unirain import UniRain, UniRainNet

__all__ = ['TiledEditModel', 'UniRain', 'UniRainNet']
