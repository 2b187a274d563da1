"""Export :class:`UniRainNet` to ONNX with its sparsity and routing.

The graph is the network of :meth:`UniRainNet.forward_padded`: batch 1 (the
per-image expert weights are a depth-wise convolution whose group count
grows with the batch), dynamic height and width, both multiples of
``pad_multiple`` (8; :class:`~unirain_mm.deploy.onnx_backend.OnnxGenerator`
pads and crops). The Hard-MoE layers gather their selected expert's weights
inside the graph, so an exported model runs one expert per Hard-MoE layer,
as the eager model does.

Inputs and outputs:

* ``image`` (1, 3, H, W) float32 in [0, 1] -> ``restored`` (1, 3, H, W) and
  ``routes`` (L, 1, N), the route every MoE layer used;
* with ``route_input=True`` one more input, ``routes_in`` (L, 1, N): the
  route to use, e.g. one computed on a downscaled copy of the whole image so
  that all its tiles run the same experts; NaN entries mean "route
  yourself" (a NaN-filled ``routes_in`` gives the router's own route, which
  is how the global route itself is computed).
"""
import os
import os.path as osp
from typing import Optional

import torch
import torch.nn as nn

#: Names of the graph's inputs and outputs.
IMAGE, RESTORED, ROUTES, ROUTES_IN = 'image', 'restored', 'routes', 'routes_in'


class ExportableUniRainNet(nn.Module):
    """The traced function: :meth:`UniRainNet.forward_padded` with the
    routes stacked into one tensor.

    Args:
        net (UniRainNet): The network (eval mode).
        route_input (bool): Take the route as an input.
    """

    def __init__(self, net: nn.Module, route_input: bool) -> None:
        super().__init__()
        self.net = net
        self.route_input = route_input

    def forward(self, image: torch.Tensor,
                routes_in: Optional[torch.Tensor] = None) -> tuple:
        given = None if routes_in is None else list(routes_in.unbind(0))
        out, infos = self.net.forward_padded(image, given)
        return out, torch.stack([info.probs for info in infos])


def export_onnx(net: nn.Module,
                out: str,
                route_input: bool = False,
                example_size: int = 64,
                opset: int = 18) -> str:
    """Write ``net`` as an ONNX file (atomically).

    Args:
        net (UniRainNet): The network; exported in eval mode on the CPU.
        out (str): Output ``.onnx`` path.
        route_input (bool): Add the ``routes_in`` input.
        example_size (int): Side of the example input used for tracing
            (a multiple of 8, at least 16).
        opset (int): ONNX opset.

    Returns:
        str: ``out``.
    """
    import onnx  # noqa: F401 (a clear ImportError before tracing)
    if example_size % net.pad_multiple or example_size < 2 * net.pad_multiple:
        raise ValueError(f'example_size must be a multiple of '
                         f'{net.pad_multiple} and >= {2 * net.pad_multiple}')
    net = net.eval().cpu()
    wrapper = ExportableUniRainNet(net, route_input).eval()
    image = torch.rand(1, 3, example_size, example_size)
    mult = net.pad_multiple
    # H = 8 * h', W = 8 * w': the graph needs no padding branch
    h = torch.export.Dim('h8', min=2, max=4096) * mult
    w = torch.export.Dim('w8', min=2, max=4096) * mult
    shapes = {'image': {2: h, 3: w}}
    args = (image, )
    names = [IMAGE]
    if route_input:
        num = net.num_moe_layers
        experts = net.compute_routes(image)[0].size(1)
        args = (image, torch.full((num, 1, experts), float('nan')))
        shapes['routes_in'] = None
        names.append(ROUTES_IN)
    tmp = f'{out}.tmp{os.getpid()}'
    try:
        with torch.no_grad():
            program = torch.onnx.export(
                wrapper, args, dynamic_shapes=shapes, input_names=names,
                output_names=[RESTORED, ROUTES], opset_version=opset,
                dynamo=True, external_data=False)
        program.save(tmp)
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return out
