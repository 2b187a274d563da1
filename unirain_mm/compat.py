"""Compatibility shims for the pinned OpenMMLab stack on torch >= 2.6.

Nothing here runs on import. :func:`apply` (called by
:func:`unirain_mm.register_all_modules`, i.e. by the tools, the tests and
``custom_imports``) applies each shim only where its problem exists, and
works whatever was imported before it:

1. torchvision op schema (:func:`patch_torchvision_ops`): only when
   torchvision is installed, ``torchvision::nms`` is not defined and its C++
   ops library cannot load (the PyPI torchvision wheel is CUDA-linked; beside
   the CPU torch build its import then fails registering fake kernels for
   ``torchvision::nms``). Defines the schema so the import succeeds; calling
   the C++ ops still raises (this project does not use them).
2. ``mmcv._ext`` stub (:func:`stub_mmcv_ext`): only with mmcv-lite, which has
   no compiled ops, while mmagic's editors import ``mmcv.ops`` at module
   level. The stub answers exactly the names that ``mmcv.ops`` of the pinned
   mmcv asks for (``_MMCV_EXT_NAMES``), each a function that raises when
   called, and raises ``AttributeError`` for any other name.
3. Checkpoint loading: torch >= 2.6 reads with ``weights_only=True``, which
   refuses mmengine checkpoints (they pickle ``HistoryBuffer`` and numpy
   objects). mmengine's local-path loader becomes
   :func:`unirain_mm.checkpoint.load_checkpoint_file`: still
   ``weights_only=True``, with an allowlist of exactly those types.
4. CPU distributed (:func:`init_cpu_distributed`, called by the tools'
   launchers, not by :func:`apply`): only without CUDA, where mmengine 0.10.7
   would call ``torch.cuda.set_device`` in ``init_dist``; sets up gloo.
"""
import importlib.machinery
import importlib.util
import os
import os.path as osp
import sys
import types
from typing import Any, Optional

_TORCHVISION_LIB = None  # keeps the schema library alive for the process
_LOADER_REGISTERED = False

# What ``import mmcv.ops`` of mmcv-lite 2.1.0 checks in ``mmcv._ext`` (its
# op modules call ``ext_loader.load_ext('_ext', [...])`` at import time);
# tests/test_compat.py checks the list against the installed mmcv.
_MMCV_EXT_NAMES = frozenset((
    'active_rotated_filter_backward', 'active_rotated_filter_forward',
    'assign_score_withk_backward', 'assign_score_withk_forward',
    'ball_query_forward', 'bbox_overlaps', 'bezier_align_backward',
    'bezier_align_forward', 'bias_act', 'border_align_backward',
    'border_align_forward', 'box_iou_quadri', 'box_iou_rotated',
    'carafe_backward', 'carafe_forward', 'carafe_naive_backward',
    'carafe_naive_forward', 'chamfer_distance_backward',
    'chamfer_distance_forward', 'contour_expand', 'convex_giou', 'convex_iou',
    'correlation_backward', 'correlation_forward',
    'deform_conv_backward_input', 'deform_conv_backward_parameters',
    'deform_conv_forward', 'deform_roi_pool_backward',
    'deform_roi_pool_forward', 'diff_iou_rotated_sort_vertices_forward',
    'dynamic_point_to_voxel_backward', 'dynamic_point_to_voxel_forward',
    'dynamic_voxelize_forward', 'filtered_lrelu', 'filtered_lrelu_act_',
    'furthest_point_sampling_forward',
    'furthest_point_sampling_with_dist_forward', 'fused_bias_leakyrelu',
    'fused_indice_conv_forward', 'gather_points_backward',
    'gather_points_forward', 'get_compiler_version',
    'get_compiling_cuda_version', 'get_indice_pairs_2d_backward',
    'get_indice_pairs_2d_forward', 'get_indice_pairs_3d_backward',
    'get_indice_pairs_3d_forward', 'get_indice_pairs_4d_forward',
    'group_points_backward', 'group_points_forward', 'hard_voxelize_forward',
    'indice_conv_backward', 'indice_conv_forward', 'indice_maxpool_backward',
    'indice_maxpool_forward', 'iou3d_boxes_overlap_bev_forward',
    'iou3d_nms3d_forward', 'iou3d_nms3d_normal_forward', 'knn_forward',
    'masked_col2im_forward', 'masked_im2col_forward', 'min_area_polygons',
    'modulated_deform_conv_backward', 'modulated_deform_conv_forward',
    'ms_deform_attn_backward', 'ms_deform_attn_forward', 'nms', 'nms_match',
    'nms_quadri', 'nms_rotated', 'pixel_group', 'points_in_boxes_all_forward',
    'points_in_boxes_cpu_forward', 'points_in_boxes_part_forward',
    'points_in_polygons_forward', 'prroi_pool_backward',
    'prroi_pool_coor_backward', 'prroi_pool_forward', 'psamask_backward',
    'psamask_forward', 'riroi_align_rotated_backward',
    'riroi_align_rotated_forward', 'roi_align_backward', 'roi_align_forward',
    'roi_align_rotated_backward', 'roi_align_rotated_forward',
    'roi_pool_backward', 'roi_pool_forward', 'roiaware_pool3d_backward',
    'roiaware_pool3d_forward', 'roipoint_pool3d_forward',
    'rotated_feature_align_backward', 'rotated_feature_align_forward',
    'sigmoid_focal_loss_backward', 'sigmoid_focal_loss_forward',
    'softmax_focal_loss_backward', 'softmax_focal_loss_forward', 'softnms',
    'stack_ball_query_forward', 'stack_group_points_backward',
    'stack_group_points_forward', 'sync_bn_backward_data',
    'sync_bn_backward_param', 'sync_bn_forward_mean', 'sync_bn_forward_output',
    'sync_bn_forward_var', 'three_interpolate_backward',
    'three_interpolate_forward', 'three_nn_forward', 'tin_shift_backward',
    'tin_shift_forward', 'upfirdn2d'
))


def _torchvision_nms_defined() -> bool:
    import torch
    try:
        torch.ops.torchvision.nms
    except (AttributeError, RuntimeError):
        return False
    return True


def patch_torchvision_ops() -> Optional[str]:
    """Shim 1: define torchvision's op schema where its C++ ops cannot load.

    Returns:
        str | None: ``'loaded'`` (the C++ ops loaded), ``'defined'`` (the
        schema was defined) or None (nothing to do).
    """
    global _TORCHVISION_LIB
    spec = importlib.util.find_spec('torchvision')
    if spec is None or spec.origin is None or _torchvision_nms_defined():
        return None
    import torch
    tv_dir = osp.dirname(spec.origin)
    for name in sorted(os.listdir(tv_dir)):
        if name.startswith('_C') and name.endswith('.so'):
            try:  # loads where torch and torchvision builds match
                torch.ops.load_library(osp.join(tv_dir, name))
                return 'loaded'
            except (OSError, RuntimeError):
                break
    _TORCHVISION_LIB = torch.library.Library('torchvision', 'DEF')
    _TORCHVISION_LIB.define(
        'nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    _TORCHVISION_LIB.define(
        'qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    return 'defined'


def _missing_op(name: str):

    def op(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f'mmcv._ext.{name} is unavailable: mmcv-lite has '
                           'no compiled ops')

    op.__name__ = op.__qualname__ = name
    return op


class _MmcvExtStub(types.ModuleType):
    """``mmcv._ext`` of mmcv-lite: the names ``mmcv.ops`` checks, no more."""

    __file__ = '<unirain_mm mmcv._ext stub>'

    def __getattr__(self, name: str) -> Any:
        if name not in _MMCV_EXT_NAMES:
            raise AttributeError(
                f'mmcv._ext (the unirain_mm stub for mmcv-lite) has no '
                f'{name!r}: not an op the pinned mmcv.ops imports')
        return _missing_op(name)


def stub_mmcv_ext() -> bool:
    """Shim 2: install the ``mmcv._ext`` stub where mmcv has no compiled ops.

    Returns:
        bool: Whether the stub was installed now.
    """
    if 'mmcv._ext' in sys.modules:
        return False
    try:
        if importlib.util.find_spec('mmcv._ext') is not None:
            return False  # full mmcv with compiled ops
    except ModuleNotFoundError:
        return False  # no mmcv at all
    stub = _MmcvExtStub('mmcv._ext')
    # A spec without loader keeps mmengine's mmcv_full_available() False.
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    sys.modules['mmcv._ext'] = stub
    return True


def init_cpu_distributed(cfg: Any) -> None:
    """Shim 4: prepare a ``--launcher pytorch`` run on machines without CUDA.

    Creates the gloo process group before the Runner does (mmengine would call
    ``torch.cuda.set_device``) and makes DDP wrap a CPU module
    (``device_ids=None``). Does nothing where CUDA is available.

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
    """Apply shims 1 to 3 where needed (any import order).

    Only the first call registers the checkpoint loader, so that a later
    call (e.g. by ``custom_imports``) keeps a tool's ``--unsafe-load``.
    """
    global _LOADER_REGISTERED
    patch_torchvision_ops()
    stub_mmcv_ext()
    if not _LOADER_REGISTERED:
        from .checkpoint import register_checkpoint_loader
        register_checkpoint_loader()
        _LOADER_REGISTERED = True
