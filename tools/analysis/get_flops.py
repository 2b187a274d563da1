"""Parameters and multiply-accumulates (MACs) of a config's generator.

Counts with mmengine's FlopAnalyzer on the active path (a Hard-MoE layer
counts only the experts the traced image selects), both including and
excluding the attention matrix products (papers' counters usually skip them).

Example:
    python tools/analysis/get_flops.py configs/unirain/unirain_all.py \
        --shape 256 256
"""
import argparse
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
import torch  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402
from mmengine.analysis import FlopAnalyzer  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402


def count(generator: torch.nn.Module, shape) -> dict:
    """Parameters and MACs of ``generator`` for one (1, 3, H, W) input."""
    generator.eval()
    analyzer = FlopAnalyzer(generator, (torch.rand(1, 3, *shape), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    total = analyzer.total()
    matmul = analyzer.by_operator().get('matmul', 0)
    return dict(
        params=sum(p.numel() for p in generator.parameters()),
        macs=total,
        macs_without_attention_matmul=total - matmul)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256],
                        metavar=('H', 'W'))
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    result = count(MODELS.build(cfg.model.generator), args.shape)
    print(f'config: {args.config}\ninput: 1x3x{args.shape[0]}x{args.shape[1]}')
    print(f"parameters: {result['params'] / 1e6:.2f} M")
    print(f"MACs (mmengine FlopAnalyzer, active path): "
          f"{result['macs'] / 1e9:.1f} G")
    print(f"MACs without attention matrix products: "
          f"{result['macs_without_attention_matmul'] / 1e9:.1f} G")
    return result


if __name__ == '__main__':
    main()
