"""Importing this module registers all of UniRain-MM (for configs).

``custom_imports = dict(imports=['unirain_mm.registry_all'])`` in a config
makes mmengine import it, which calls
:func:`unirain_mm.register_all_modules` without touching the default scope
(the config's ``default_scope`` sets that). ``import unirain_mm`` alone
registers nothing.
"""
from .setup_env import register_all_modules

register_all_modules(init_default_scope=False)
