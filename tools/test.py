"""Evaluate a checkpoint on every test set of a config.

Prints one table (a row per test set, plus their average) and saves it as
JSON and Markdown (``<work_dir>/results.{json,md}`` or ``--out``).

Example:
    python tools/test.py configs/unirain/unirain_demo_cpu.py \
        work_dirs/unirain_demo_cpu/iter_1500.pth
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import unirain_mm  # noqa: E402,F401  (shims + registration before mmagic)
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from unirain_mm.engine import CollectMetricsHook  # noqa: E402
from unirain_mm.evaluation import format_markdown, save_results  # noqa: E402
from unirain_mm.tool_utils import add_common_args, load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a UniRain-MM model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='path prefix of the results (writes PREFIX.json and PREFIX.md); '
        'default <work_dir>/results')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint

    runner = Runner.from_cfg(cfg)
    collector = CollectMetricsHook()
    runner.register_hook(collector)
    runner.test()

    if is_main_process():
        out = args.out or osp.join(cfg.work_dir, 'results')
        paths = save_results(collector.metrics, out)
        print(f'\nResults of {args.checkpoint} (PSNR/SSIM on the Y channel, '
              'no border crop; Input* = the rainy input itself):\n')
        print(format_markdown(collector.metrics))
        print('Saved: ' + ', '.join(paths))
    return collector.metrics


if __name__ == '__main__':
    main()
