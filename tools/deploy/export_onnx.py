"""Export a UniRainNet config (and checkpoint) to ONNX, then check it.

The graph takes one image of any size whose sides are multiples of 8
(``tools/infer.py --backend onnxruntime`` and ``UniRainInferencer(
backend='onnxruntime')`` pad and crop, and tile large images), routes it
inside the graph and gathers each Hard-MoE layer's selected expert, so it
runs only the experts it selected. ``--route-input`` adds the route as an
input (NaN: route yourself), for tiles that share one global route; the
inference tools need it for ``--route global`` on tiled images.

After writing, the tool runs the file with onnxruntime at two sizes and
prints the largest difference to PyTorch (``--no-verify`` skips that).

Example:
    python tools/deploy/export_onnx.py configs/unirain/unirain_demo_cpu.py \\
        work_dirs/unirain_demo_cpu/iter_1800.pth --out unirain_demo.onnx \\
        --route-input
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint (omit only to test the export: the '
                        'weights are then random)')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument('--route-input', action='store_true',
                        help='take the route as an input (for tiles that '
                        'share the global route of their image)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument('--no-verify', action='store_true',
                        help='skip the onnxruntime check')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='read the checkpoint with weights_only=False '
                        '(trusted files only)')
    return parser.parse_args(argv)


def verify(generator, path: str, sizes=((64, 96), (83, 57))) -> float:
    """Largest |onnxruntime - PyTorch| over random images of ``sizes``."""
    import torch

    from unirain_mm.deploy.onnx_backend import OnnxGenerator
    session = OnnxGenerator(path)
    worst = 0.0
    for h, w in sizes:
        x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(h))
        with torch.no_grad():
            expected = generator(x)
        worst = max(worst, (session(x) - expected).abs().max().item())
    return worst


def main(argv=None) -> str:
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from unirain_mm.checkpoint import CheckpointError, load_model_weights
    from unirain_mm.deploy.onnx_export import export_onnx

    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'config not found: {args.config}')
    init_default_scope('mmagic')
    model = MODELS.build(Config.fromfile(args.config).model)
    if args.checkpoint is None:
        print('WARNING: no checkpoint given: exporting RANDOM weights (for '
              'testing the export only; the model will not derain)',
              file=sys.stderr)
    else:
        if not osp.isfile(args.checkpoint):
            raise SystemExit(f'checkpoint not found: {args.checkpoint}')
        try:
            load_model_weights(model, args.checkpoint, unsafe=args.unsafe_load)
        except CheckpointError as e:
            raise SystemExit(str(e))
    generator = getattr(model, 'generator', model).eval()
    if not hasattr(generator, 'forward_padded'):
        raise SystemExit(f'{args.config}: the generator is '
                         f'{type(generator).__name__}; only UniRainNet '
                         'exports')
    export_onnx(generator, args.out, route_input=args.route_input,
                opset=args.opset)
    print(f'Saved: {args.out} ({osp.getsize(args.out) / 2**20:.1f} MiB, '
          f'route {"input" if args.route_input else "inside the graph"})')
    if not args.no_verify:
        worst = verify(generator, args.out)
        print(f'onnxruntime vs PyTorch: max |difference| {worst:.2e}')
        if not worst < 1e-4:  # also catches NaN
            raise SystemExit(f'{args.out}: onnxruntime differs from PyTorch '
                             f'by {worst:.2e} (> 1e-4)')
    return args.out


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
