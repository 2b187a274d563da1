"""Run an exported UniRainNet (see :mod:`.onnx_export`) with onnxruntime.

:class:`OnnxGenerator` has the interface :func:`tiled_forward` expects of a
generator (``__call__(x, routes=None)`` and ``compute_routes(x)``), so the
exported model runs with the same tiling and the same global route as the
eager one.
"""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .onnx_export import IMAGE, ROUTES_IN


class OnnxGenerator:
    """An exported UniRainNet in an onnxruntime CPU session.

    Args:
        path (str): The ``.onnx`` file.
        threads (int, optional): onnxruntime intra-op threads (default: its
            own choice, one per core).

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is not an exported UniRainNet.
    """

    #: H and W of the graph's input must be multiples of this.
    pad_multiple = 8

    def __init__(self, path: str, threads: Optional[int] = None) -> None:
        import onnxruntime as ort
        if not osp.isfile(path):
            raise FileNotFoundError(f'ONNX model not found: {path}')
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                path, options, providers=['CPUExecutionProvider'])
        except Exception as err:  # onnxruntime raises its own types
            raise ValueError(f'{path}: not a readable ONNX model ({err})')
        inputs = {i.name: i for i in self.session.get_inputs()}
        if IMAGE not in inputs:
            raise ValueError(f'{path}: expected an input named {IMAGE!r} '
                             f'(a model written by tools/deploy/'
                             f'export_onnx.py), got {sorted(inputs)}')
        self.path = path
        self.route_input = ROUTES_IN in inputs
        self._route_shape = (tuple(inputs[ROUTES_IN].shape)
                             if self.route_input else None)

    def _run_one(self, img: np.ndarray,
                 route: Optional[np.ndarray]) -> tuple:
        feeds = {IMAGE: img}
        if self.route_input:
            feeds[ROUTES_IN] = route if route is not None else np.full(
                self._route_shape, np.nan, np.float32)
        restored, routes = self.session.run(None, feeds)
        return restored, routes

    def forward_with_routes(
        self,
        x: torch.Tensor,
        routes: Optional[Sequence[torch.Tensor]] = None
    ) -> tuple:
        """Restore a batch image by image (the graph has batch 1).

        Args:
            x (Tensor): (B, 3, H, W) float in [0, 1], any H and W.
            routes (Sequence[Tensor], optional): One (B or 1, N) route per
                MoE layer; needs a model exported with ``--route-input``.

        Returns:
            tuple[Tensor, list[Tensor]]: (B, 3, H, W) float32 on the CPU
            and the routes used, one (B, N) tensor per MoE layer.
        """
        if routes is not None and not self.route_input:
            raise ValueError(
                f'{self.path} was exported without --route-input, so it '
                'cannot take a given route (e.g. the global route of a tiled '
                'image): export it again with --route-input, or route each '
                'tile itself (--route per_tile)')
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % self.pad_multiple, (-w) % self.pad_multiple
        x = x.detach().float().cpu()
        if pad_h or pad_w:
            mode = 'reflect' if pad_h < h and pad_w < w else 'replicate'
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        outs, used = [], []
        for b in range(x.size(0)):
            route = None
            if routes is not None:
                route = np.stack([
                    r[b if r.size(0) > 1 else 0].float().cpu().numpy()
                    for r in routes
                ])[:, None]
            restored, probs = self._run_one(
                np.ascontiguousarray(x[b:b + 1].numpy()), route)
            outs.append(torch.from_numpy(restored))
            used.append(torch.from_numpy(probs)[:, 0])
        out = torch.cat(outs)[..., :h, :w]
        return out, list(torch.stack(used, dim=1).unbind(0))

    def __call__(self,
                 x: torch.Tensor,
                 routes: Optional[Sequence[torch.Tensor]] = None
                 ) -> torch.Tensor:
        return self.forward_with_routes(x, routes)[0]

    def compute_routes(self, x: torch.Tensor) -> List[torch.Tensor]:
        """The route of every MoE layer for ``x``, one (B, N) tensor each."""
        return self.forward_with_routes(x)[1]
