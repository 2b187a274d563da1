"""Compatibility shims for the pinned OpenMMLab stack on torch >= 2.6.

Applied once, on ``import unirain_mm``, before mmagic, mmpretrain or
torchvision are imported (see ``requirements/lock.txt`` for the pin set):

1. torchvision op schema: the PyPI torchvision wheel is CUDA-linked and its C++
   ops do not load beside the CPU torch build, yet its import registers fake
   kernels for ``torchvision::nms``. Define the schema so the import succeeds;
   calling the C++ ops still raises (this project does not use them).
2. ``mmcv._ext`` stub: mmcv-lite has no compiled ops, but several mmagic
   editors import ``mmcv.ops`` at module level.
3. Checkpoint loading: torch >= 2.6 defaults ``torch.load`` to
   ``weights_only=True``, which cannot read mmengine checkpoints (they pickle
   ``HistoryBuffer`` and numpy objects). mmengine's local-path loader becomes
   :func:`unirain_mm.checkpoint.load_checkpoint_file`: still
   ``weights_only=True``, with an allowlist of exactly those types.
4. CPU distributed: mmengine 0.10.7 calls ``torch.cuda.set_device`` in
   ``init_dist``; :func:`init_cpu_distributed` sets up gloo instead.
"""
import importlib.machinery
import importlib.util
import os
import os.path as osp
import sys
import types
import warnings
from typing import Any

_TORCHVISION_LIB = None  # keeps the schema library alive for the process


def _patch_torchvision_ops() -> None:
    global _TORCHVISION_LIB
    if 'torchvision' in sys.modules or _TORCHVISION_LIB is not None:
        return
    spec = importlib.util.find_spec('torchvision')
    if spec is None or spec.origin is None:
        return
    import torch
    try:
        torch.ops.torchvision.nms  # real ops are already registered
        return
    except (AttributeError, RuntimeError):
        pass
    tv_dir = osp.dirname(spec.origin)
    for name in os.listdir(tv_dir):
        if name.startswith('_C') and name.endswith('.so'):
            try:  # loads on a CUDA build of torch
                torch.ops.load_library(osp.join(tv_dir, name))
                return
            except (OSError, RuntimeError):
                break
    _TORCHVISION_LIB = torch.library.Library('torchvision', 'DEF')
    _TORCHVISION_LIB.define(
        'nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    _TORCHVISION_LIB.define(
        'qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')


class _MissingMmcvOp:

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f'mmcv._ext.{self.__name__} is unavailable: '
                           'mmcv-lite has no compiled ops')


class _MmcvExtStub(types.ModuleType):
    __file__ = '<unirain_mm mmcv._ext stub>'

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)
        return _MissingMmcvOp(name)


def _stub_mmcv_ext() -> None:
    if 'mmcv._ext' in sys.modules:
        return
    try:
        if importlib.util.find_spec('mmcv._ext') is not None:
            return  # full mmcv with compiled ops
    except ModuleNotFoundError:
        return  # no mmcv at all
    stub = _MmcvExtStub('mmcv._ext')
    # A spec without loader keeps mmengine's mmcv_full_available() False.
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    sys.modules['mmcv._ext'] = stub


def init_cpu_distributed(cfg: Any) -> None:
    """Prepare a ``--launcher pytorch`` run on machines without CUDA.

    Creates the gloo process group before the Runner does (mmengine would call
    ``torch.cuda.set_device``) and makes DDP wrap a CPU module
    (``device_ids=None``).

    Args:
        cfg (Config): The training or testing config, modified in place.
    """
    import torch
    import torch.distributed as dist
    if torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_cfg.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper_cfg
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'


def apply() -> None:
    """Apply the import-time shims (idempotent)."""
    # diffusers 0.24 (imported by mmagic) uses a renamed torch API; the
    # warning is about diffusers, not about anything a user can change.
    warnings.filterwarnings(
        'ignore', message='.*_register_pytree_node. is deprecated',
        category=FutureWarning)
    _patch_torchvision_ops()
    _stub_mmcv_ext()
    from .checkpoint import register_checkpoint_loader
    register_checkpoint_loader()
