"""Registration of UniRain-MM's modules in mmagic's registries."""
import importlib
import warnings

# The modules whose import registers something (models, datasets, data
# transforms and samplers, metrics, hooks) in mmagic's registries.
REGISTERING_MODULES = (
    'unirain_mm.models',
    'unirain_mm.datasets.clean_photo_dataset',
    'unirain_mm.datasets.lmdb_dataset',
    'unirain_mm.datasets.manifest_subset',
    'unirain_mm.datasets.rain_type_dataset',
    'unirain_mm.datasets.samplers',
    'unirain_mm.datasets.transforms',
    'unirain_mm.evaluation',
    'unirain_mm.engine',
)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register UniRain-MM's modules (and mmagic's) in the registries.

    Applies the shims the pinned stack needs on this machine
    (:func:`unirain_mm.compat.apply`) first, then imports mmagic's modules
    and ours. Calling it again does nothing new.

    Args:
        init_default_scope (bool): Also make ``mmagic`` the default scope
            of mmengine's registries, like
            ``mmagic.utils.register_all_modules``. Defaults to True.
    """
    from . import compat
    compat.apply()
    with warnings.catch_warnings():
        # diffusers 0.24 (imported by mmagic) calls a renamed torch API; the
        # warning is about diffusers and not for our users to act on.
        warnings.filterwarnings(
            'ignore', message='.*_register_pytree_node. is deprecated',
            category=FutureWarning)
        from mmagic.utils import register_all_modules as register_mmagic
        register_mmagic(init_default_scope=init_default_scope)
    for name in REGISTERING_MODULES:
        importlib.import_module(name)
