"""Evaluate a checkpoint on every test set of a config.

Prints one table (a row per test set, plus their average) and saves it as
JSON and Markdown (``<work_dir>/results.{json,md}`` or ``--out``).

Example:
    python tools/test.py configs/unirain/unirain_demo_cpu.py \
        work_dirs/unirain_demo_cpu/iter_1500.pth
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import unirain_mm  # noqa: E402,F401  (shims + registration before mmagic)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from unirain_mm.compat import init_cpu_distributed  # noqa: E402
from unirain_mm.evaluation import format_markdown, save_results  # noqa: E402


class _CollectMetricsHook(Hook):
    priority = 'LOWEST'  # after AverageMetricsHook added the averages

    def __init__(self) -> None:
        self.metrics = {}

    def after_test_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a UniRain-MM model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument(
        '--out',
        help='path prefix of the results (writes PREFIX.json and PREFIX.md); '
        'default <work_dir>/results')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.launcher == 'pytorch':
        init_cpu_distributed(cfg)

    runner = Runner.from_cfg(cfg)
    collector = _CollectMetricsHook()
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
