"""Tiled inference of a restoration generator and a config-driven inferencer.

Large images are cut into overlapping tiles that run one (or a few) per
forward pass, so the activation memory depends on the tile size, not the
image size. Tile outputs are blended with a separable window (linear ramps
over the overlap, nearly zero but never zero on the few pixels next to a
cut) and normalised by the summed weights.

For a mixture-of-experts generator (one with ``compute_routes``) the route
can be computed once on a downscaled copy of the whole image
(``routes='global'``), so that every tile runs the same experts and no seam
appears where neighbouring tiles would have chosen differently.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..model_zoo import ModelZooError, is_zoo_name, list_models, resolve

_DTYPES = {'fp32': torch.float32, 'fp16': torch.float16,
           'bf16': torch.bfloat16}
#: Inference backends of :class:`UniRainInferencer`.
BACKENDS = ('pytorch', 'onnxruntime')
# Defaults of every tiling tool: a 512 px tile scored 0.35 dB above 256 px
# tiles on real 720p night photos at the same memory as four 256 px tiles
# per forward (docs/benchmarks.md, "Tile side of tools/infer.py").
DEFAULT_TILE = 512
DEFAULT_TILE_BATCH = 1


def tile_starts(size: int, tile: int, overlap: int) -> List[int]:
    """Start offsets of the tiles along one axis.

    Args:
        size (int): Length of the axis.
        tile (int): Tile length.
        overlap (int): Overlap between neighbouring tiles, < ``tile``.

    Returns:
        list[int]: Offsets with stride ``tile - overlap``; the last tile ends
        at the border. ``[0]`` when ``size <= tile``.
    """
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, tile - overlap))
    starts.append(size - tile)
    return starts


def balanced_tile(size: int, tile: int, overlap: int,
                  multiple: int = 8) -> int:
    """The smallest tile length (a multiple of ``multiple``, at most
    ``tile``) that covers ``size`` with as many tiles as ``tile`` needs.

    Tiles of the full ``tile`` length waste work where the last one overlaps
    its neighbour far more than ``overlap`` (3 rows of 512 cover 1080 pixels
    with 1536); equal, shorter tiles compute little more than the image
    (3 rows of 384: 1152).

    Args:
        size (int): Length of the axis.
        tile (int): Largest tile length.
        overlap (int): Overlap between neighbouring tiles, < ``tile``.

    Returns:
        int: The tile length; ``size`` when one tile covers the axis.
    """
    count = len(tile_starts(size, tile, overlap))
    if count == 1:
        return min(size, tile)
    exact = -(-(size + (count - 1) * overlap) // count)  # ceil
    return min(tile, -(-exact // multiple) * multiple)


def _axis_window(start: int, length: int, size: int, overlap: int,
                 dtype: torch.dtype, device: torch.device,
                 floor: float = 1e-6) -> torch.Tensor:
    """1-D blending weights of one tile, shape (length,).

    On each side that has a neighbouring tile, the outer ``overlap // 4``
    pixels (whose context was cut by the tile border) get the weight
    ``floor``, and a linear ramp rises to 1 over the rest of the overlap.
    Mirrored ramps of two neighbours sum to 1. Flat (1) at image borders.
    Never zero, so every pixel has a positive weight sum.
    """
    w = torch.ones(length, dtype=dtype, device=device)
    overlap = min(overlap, length // 2)
    if overlap <= 0:
        return w
    margin = overlap // 4
    ramp_len = overlap - 2 * margin
    k = torch.arange(overlap, dtype=dtype, device=device)
    ramp = ((k - margin + 1) / (ramp_len + 1)).clamp(floor, 1)
    if start > 0:  # a neighbour on the left / top
        w[:overlap] = ramp
    if start + length < size:  # a neighbour on the right / bottom
        w[length - overlap:] = torch.minimum(w[length - overlap:],
                                             ramp.flip(0))
    return w


def _run(generator: nn.Module, x: torch.Tensor,
         routes: Optional[Sequence[torch.Tensor]]) -> torch.Tensor:
    if routes is None:
        return generator(x)
    return generator(x, routes=routes)


@torch.no_grad()
def global_routes(generator: nn.Module, img: torch.Tensor,
                  route_size: int = 256) -> Optional[List[torch.Tensor]]:
    """Routes of ``generator`` for a whole image, from a downscaled copy.

    Args:
        generator (nn.Module): The network; None is returned when it has no
            ``compute_routes``.
        img (Tensor): Image, shape (1, C, H, W).
        route_size (int): Longer side of the copy the route is computed on
            (``area`` interpolation); images no larger are used as they are.

    Returns:
        list[Tensor] | None: One (1, num_experts) tensor per MoE layer.
    """
    if not hasattr(generator, 'compute_routes'):
        return None
    h, w = img.shape[-2:]
    scale = route_size / max(h, w)
    small = img
    if scale < 1:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        small = F.interpolate(img, size=size, mode='area')
    return generator.compute_routes(small)


@torch.no_grad()
def tiled_forward(generator: nn.Module,
                  img: torch.Tensor,
                  tile: int = DEFAULT_TILE,
                  overlap: int = 32,
                  routes: str = 'global',
                  route_size: int = 256,
                  tile_batch: int = DEFAULT_TILE_BATCH) -> torch.Tensor:
    """Restore one image of any size tile by tile.

    Args:
        generator (nn.Module): Maps (B, C, h, w) to (B, C_out, h, w); if it
            has ``compute_routes`` it must accept ``routes=`` in forward.
        img (Tensor): Image, shape (1, C, H, W), float in [0, 1].
        tile (int): Largest tile side. Images with H and W <= ``tile`` run
            in one forward pass; larger ones in tiles of
            :func:`balanced_tile` length per axis.
        overlap (int): Overlap of neighbouring tiles, in [0, tile).
        routes (str): ``'global'``: one route from the whole image downscaled
            to ``route_size`` is used by every tile; ``'per_tile'``: each tile
            routes itself. Ignored for generators without ``compute_routes``.
        route_size (int): Longer side of the image the global route sees.
        tile_batch (int): Tiles per forward pass.

    Returns:
        Tensor: Restored image, shape (1, C_out, H, W), float32.
    """
    if img.dim() != 4 or img.size(0) != 1:
        raise ValueError(f'img must have shape (1, C, H, W), got '
                         f'{tuple(img.shape)}')
    if routes not in ('global', 'per_tile'):
        raise ValueError(f"routes must be 'global' or 'per_tile', got "
                         f'{routes!r}')
    if not 0 <= overlap < tile:
        raise ValueError(f'need 0 <= overlap < tile, got overlap={overlap}, '
                         f'tile={tile}')
    if tile_batch < 1:
        raise ValueError(f'tile_batch must be >= 1, got {tile_batch}')
    h, w = img.shape[-2:]
    fixed = None
    if routes == 'global' and max(h, w) > min(tile, route_size):
        # Skip when one forward on the whole image would route identically.
        fixed = global_routes(generator, img, route_size)
    if h <= tile and w <= tile:
        return _run(generator, img, fixed).float()

    th, tw = balanced_tile(h, tile, overlap), balanced_tile(w, tile, overlap)
    ys, xs = tile_starts(h, th, overlap), tile_starts(w, tw, overlap)
    dev = img.device
    wy = [_axis_window(y, th, h, overlap, torch.float32, dev) for y in ys]
    wx = [_axis_window(x, tw, w, overlap, torch.float32, dev) for x in xs]
    # The window is separable and the tiles form a grid, so the weight sum is
    # the outer product of the per-axis sums: no (H, W) weight canvas.
    sum_y = torch.zeros(h, device=dev)
    sum_x = torch.zeros(w, device=dev)
    for y, win in zip(ys, wy):
        sum_y[y:y + th] += win
    for x, win in zip(xs, wx):
        sum_x[x:x + tw] += win

    grid = [(i, j) for i in range(len(ys)) for j in range(len(xs))]
    out = None
    for b in range(0, len(grid), tile_batch):
        chunk = grid[b:b + tile_batch]
        batch = torch.cat([
            img[..., ys[i]:ys[i] + th, xs[j]:xs[j] + tw] for i, j in chunk
        ])
        pred = _run(generator, batch, fixed).float()  # (n, C_out, th, tw)
        if out is None:
            out = img.new_zeros((1, pred.size(1), h, w), dtype=torch.float32)
        for k, (i, j) in enumerate(chunk):
            weight = wy[i][:, None] * wx[j][None, :]
            out[0, :, ys[i]:ys[i] + th, xs[j]:xs[j] + tw] += pred[k] * weight
    return out / (sum_y[:, None] * sum_x[None, :])


def read_rgb(path: str) -> np.ndarray:
    """Read an image file as an (H, W, 3) uint8 RGB array.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not a readable image.
    """
    import cv2
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f'cannot read image (unknown format or corrupt '
                         f'file): {path}')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _zoo_files(name: str, checkpoint: Optional[str]) -> Tuple[str, str]:
    """Config and weights of a zoo model (verified)."""
    model = resolve(name)
    if model is None:
        raise ModelZooError(
            f'{name!r} is neither a file nor a model-zoo name (zoo: '
            f'{", ".join(sorted(list_models())) or "empty"})')
    if checkpoint is not None:
        raise ModelZooError(f'zoo model {name!r} brings its weights; got '
                            f'checkpoint={checkpoint!r} too')
    return model.config, model.weights


class UniRainInferencer:
    """Restore images with a model built from an OpenMMLab config.

    Example:
        >>> inferencer = UniRainInferencer(
        ...     'configs/unirain/unirain_demo_cpu.py', 'iter_1800.pth')
        >>> clean = inferencer('rainy.png')  # (H, W, 3) uint8 RGB

    Args:
        config (str | Config): Config file or object with a ``model`` field,
            or a model-zoo name (``'unirain-s'``, see
            :mod:`unirain_mm.model_zoo`), which brings its verified weights.
        checkpoint (str, optional): Checkpoint whose ``state_dict`` is loaded.
            None keeps the initial weights (not allowed with a zoo name,
            which has its own).
        device (str): Torch device, e.g. ``'cpu'`` or ``'cuda'``.
        dtype (str): ``'fp32'``, ``'fp16'`` (CUDA only) or ``'bf16'``; the
            low precisions run under :func:`torch.autocast`.
        tile (int): Tile side of :func:`tiled_forward`.
        overlap (int): Tile overlap.
        routes (str): ``'global'`` or ``'per_tile'``.
        route_size (int): Longer side the global route is computed at.
        tile_batch (int): Tiles per forward pass.
        unsafe_load (bool): Read the checkpoint with ``weights_only=False``
            (old files that need more than the allowlist of
            :mod:`unirain_mm.checkpoint`): for trusted files only.
        backend (str): ``'pytorch'`` (``config`` and ``checkpoint`` build
            the model) or ``'onnxruntime'`` (``config`` is a ``.onnx`` file
            written by ``tools/deploy/export_onnx.py``; no checkpoint; CPU,
            fp32).
        channels_last (bool, optional): Run a generator that supports it
            (``UniRainNet``) in the channels-last memory format; default:
            on the CPU, where it is faster.

    Raises:
        CheckpointError: The checkpoint is refused as unsafe, or its keys or
            shapes do not match the model built from ``config``.
        ModelZooError: ``config`` is neither a file nor a zoo name, or the
            zoo weights are missing or fail their hash check.
    """

    def __init__(self,
                 config,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 dtype: str = 'fp32',
                 tile: int = DEFAULT_TILE,
                 overlap: int = 32,
                 routes: str = 'global',
                 route_size: int = 256,
                 tile_batch: int = DEFAULT_TILE_BATCH,
                 unsafe_load: bool = False,
                 backend: str = 'pytorch',
                 channels_last: Optional[bool] = None) -> None:
        from mmagic.registry import MODELS
        from mmengine.config import Config
        from mmengine.registry import init_default_scope

        from ..checkpoint import load_model_weights

        if dtype not in _DTYPES:
            raise ValueError(f'dtype must be one of {sorted(_DTYPES)}, got '
                             f'{dtype!r}')
        self.device = torch.device(device)
        if dtype == 'fp16' and self.device.type != 'cuda':
            raise ValueError('fp16 inference needs a CUDA device; on '
                             f'{self.device.type} use dtype=\'bf16\' (or '
                             "'fp32')")
        self.dtype = dtype
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got '
                             f'{backend!r}')
        self.backend = backend
        self.tiling = dict(tile=tile, overlap=overlap, routes=routes,
                           route_size=route_size, tile_batch=tile_batch)
        if backend == 'onnxruntime':
            from ..deploy.onnx_backend import OnnxGenerator
            if checkpoint is not None:
                raise ValueError('the onnxruntime backend takes the .onnx '
                                 'file in place of the config and no '
                                 f'checkpoint, got checkpoint={checkpoint!r}')
            if self.device.type != 'cpu' or dtype != 'fp32':
                raise ValueError('the onnxruntime backend runs fp32 on the '
                                 f'CPU, got {device} / {dtype}')
            self.model = None
            self.generator = OnnxGenerator(str(config))
            return
        if isinstance(config, str) and is_zoo_name(config):
            config, checkpoint = _zoo_files(config, checkpoint)
        cfg = config if isinstance(config, Config) else Config.fromfile(
            config)
        model_cfg = cfg.model.copy()
        # The model's own evaluation forward tiles (UniRain's test_cfg).
        model_cfg['test_cfg'] = dict(
            model_cfg.get('test_cfg') or {}, tiling=self.tiling)
        init_default_scope('mmagic')
        model = MODELS.build(model_cfg)
        if checkpoint is not None:
            if not osp.isfile(checkpoint):
                raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
            load_model_weights(model, checkpoint, strict=True,
                               unsafe=unsafe_load)
        if hasattr(model.data_preprocessor, 'data_keys'):
            # Inputs only: no ``gt_img`` to preprocess (mmagic would warn
            # about its absence for every image).
            model.data_preprocessor.data_keys = []
        self.model = model.to(self.device).eval()
        self.generator = getattr(model, 'generator', model)
        if channels_last is None:
            channels_last = self.device.type == 'cpu'
        if hasattr(self.generator, 'channels_last'):
            self.generator.channels_last = channels_last

    @torch.no_grad()
    def predict(self, img: torch.Tensor) -> torch.Tensor:
        """Restore one (3, H, W) RGB image with values in [0, 255].

        The image takes the path of a test sample: the model's
        ``data_preprocessor`` (normalisation, padding), the
        ``mode='predict'`` forward (tiled per ``test_cfg``) and the
        preprocessor's ``destruct``.

        Args:
            img (Tensor): (3, H, W), uint8 or float in [0, 255].

        Returns:
            Tensor: (3, H, W) RGB, float32 in [0, 255].
        """
        from mmagic.structures import DataSample
        if img.dim() != 3 or img.size(0) != 3:
            raise ValueError(f'img must have shape (3, H, W), got '
                             f'{tuple(img.shape)}')
        if self.backend == 'onnxruntime':
            x = img.float().cpu()[None] / 255
            out = tiled_forward(self.generator, x, **self.tiling)[0]
            return out.clamp_(0, 1).mul_(255)
        h, w = img.shape[-2:]
        sample = DataSample(metainfo=dict(
            img_channel_order='rgb', img_color_type='color',
            ori_img_shape=(h, w, 3)))
        data = dict(inputs=[img.to(self.device)], data_samples=[sample])
        with torch.autocast(self.device.type, dtype=_DTYPES[self.dtype],
                            enabled=self.dtype != 'fp32'):
            pred = self.model.test_step(data)[0].output.pred_img
        # mmagic's destruct hands predictions out in BGR (what its metrics
        # and visualisers expect); back to the caller's RGB.
        return pred.float().flip(0)

    def restore(self, img: torch.Tensor) -> torch.Tensor:
        """Restore a (1, 3, H, W) RGB float tensor in [0, 1] through
        :meth:`predict`; returns the same shape, float32, in [0, 1]."""
        if img.dim() != 4 or img.size(0) != 1:
            raise ValueError(f'img must have shape (1, 3, H, W), got '
                             f'{tuple(img.shape)}')
        return self.predict(img[0] * 255)[None].div_(255).clamp_(0, 1)

    def __call__(self, image: Union[str, np.ndarray]) -> np.ndarray:
        """Restore one image.

        Args:
            image (str | ndarray): A path, or an (H, W, 3) uint8 RGB array.

        Returns:
            ndarray: The restored image, (H, W, 3) uint8 RGB.
        """
        if isinstance(image, str):
            image = read_rgb(image)
        if (not isinstance(image, np.ndarray) or image.ndim != 3
                or image.shape[2] != 3 or image.dtype != np.uint8):
            desc = (f'{image.dtype} array of shape {image.shape}'
                    if isinstance(image, np.ndarray) else type(image))
            raise ValueError('expected a path or an (H, W, 3) uint8 RGB '
                             f'array, got {desc}')
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        out = self.predict(x).round_().byte()
        return out.permute(1, 2, 0).cpu().numpy()
