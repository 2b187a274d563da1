"""UniRain-MM: unified image deraining (UniRain, CVPR 2026) for MMagic.

Importing the package is cheap and changes nothing global: it imports
neither torch nor mmagic and applies no shim, so the pure-numpy parts
(converters, LMDB packer, rain synthesis) start fast. Like mmagic, the
models, datasets, metrics and hooks are registered by
:func:`register_all_modules` (the tools call it; configs reach it through
``custom_imports = dict(imports=['unirain_mm.registry_all'])``).
"""
from .setup_env import register_all_modules
from .version import __version__

__all__ = ['__version__', 'register_all_modules']
