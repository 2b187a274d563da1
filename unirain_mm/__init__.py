"""UniRain-MM: unified image deraining (UniRain, CVPR 2026) for MMagic.

Importing the package applies the compatibility shims (``compat``) and then
registers the models, datasets, metrics and hooks in mmagic's registries.
"""
from . import compat

compat.apply()  # must run before mmagic / torchvision are imported

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']
