"""UniRain-MM: unified image deraining (UniRain, CVPR 2026) for MMagic."""
from . import compat

compat.apply()  # must run before mmagic / torchvision are imported

from .version import __version__  # noqa: E402

__all__ = ['__version__']
