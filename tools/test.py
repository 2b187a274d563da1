"""Evaluate a checkpoint on test sets: the config's own, or any benchmarks.

Prints one table (a row per test set, plus their average) and saves it as
JSON, CSV and Markdown (``<work_dir>/results.{json,csv,md}`` or ``--out``).

``--benchmarks`` (or a config's ``test_benchmarks``) replaces the config's
test sets by the named benchmarks, read from ``<data_root>/<split>/<type>/``
and scored in both conventions (see
:mod:`unirain_mm.evaluation.benchmark_cfg`).
``--protocol authors`` evaluates as the UniRain authors' test script does
(centre crop to a multiple of 16; PSNR-RGB, SSIM-pyiqa, LPIPS).

Examples:
    python tools/test.py configs/unirain/unirain_demo_cpu.py \
        work_dirs/unirain_demo_cpu/iter_1800.pth
    python tools/test.py configs/unirain/unirain_all.py CKPT \
        --benchmarks Rain100H Test100 --save-dir work_dirs/restored
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
from mmengine.config import Config  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from unirain_mm.checkpoint import (CheckpointError,  # noqa: E402
                                   load_model_weights)
from unirain_mm.engine import CollectMetricsHook, SaveImagesHook  # noqa: E402
from unirain_mm.evaluation import (BENCHMARK_GROUPS,  # noqa: E402
                                   PROTOCOLS, apply_protocol,
                                   benchmark_test_cfg, format_markdown,
                                   save_results)
from unirain_mm.tool_utils import add_common_args, load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a UniRain-MM model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='path prefix of the results (writes PREFIX.json, PREFIX.csv '
        'and PREFIX.md); default <work_dir>/results')
    parser.add_argument(
        '--benchmarks',
        nargs='+',
        metavar='NAME',
        help='test on these benchmarks instead of the config\'s test sets: '
        'DRS DRD NRS NRD (the test/<type> splits), public benchmarks such '
        'as Rain100H, any converted set as <name>:<type> (read from '
        '<data_root>/<name>/<type>/), or a group (' +
        ', '.join(BENCHMARK_GROUPS) +
        '; a group skips the benchmarks not converted yet). Default: the '
        'config\'s test_benchmarks if set')
    parser.add_argument(
        '--save-dir',
        help='write the restored images as SAVE_DIR/<test set>/<input '
        'name>.png')
    parser.add_argument(
        '--save-grid',
        action='store_true',
        help='with --save-dir, also write SAVE_DIR/grids/<test set>/'
        '<name>.png (input | output | target)')
    parser.add_argument(
        '--protocol',
        choices=PROTOCOLS,
        default='mmagic',
        help='mmagic (default): the config\'s test pipelines and metrics; '
        'authors: the UniRain authors\' test script: input and target '
        'centre-cropped to a multiple of 16, PSNR-RGB, SSIM-pyiqa and LPIPS')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='read the checkpoint with weights_only=False (old files the '
        'safe loader refuses): runs any code the file holds, for trusted '
        'files only')
    add_common_args(parser)
    return parser.parse_args(argv)


def use_benchmarks(cfg: Config, args: argparse.Namespace) -> None:
    """Replace the config's test sets by ``--benchmarks`` (or the config's
    ``test_benchmarks``), if any."""
    names = args.benchmarks or cfg.get('test_benchmarks')
    if not names:
        return
    data_root = cfg.get('data_root')  # --data-root is applied already
    if not data_root:
        raise SystemExit('the config has no data_root: pass --data-root')
    loader = cfg.get('test_dataloader')
    if isinstance(loader, list):
        loader = loader[0] if loader else None
    try:
        fields = benchmark_test_cfg(
            names,
            data_root,
            pipeline=cfg.get('test_pipeline'),
            num_workers=(loader or {}).get('num_workers', 2))
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(str(e))
    for key, value in fields.items():
        cfg[key] = value


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    if args.save_grid and not args.save_dir:
        raise SystemExit('--save-grid needs --save-dir')
    cfg = load_config(args)
    cfg.load_from = None  # loaded strictly below, not by the Runner
    use_benchmarks(cfg, args)
    try:
        apply_protocol(cfg, args.protocol)
    except ValueError as e:
        raise SystemExit(f'--protocol {args.protocol}: {e}')

    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    try:
        checkpoint = load_model_weights(model, args.checkpoint, strict=True,
                                        unsafe=args.unsafe_load)
    except CheckpointError as e:
        raise SystemExit(str(e))
    runner.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    collector = CollectMetricsHook()
    runner.register_hook(collector)
    if args.save_dir:
        runner.register_hook(SaveImagesHook(args.save_dir, args.save_grid))
    runner.test()

    if is_main_process():
        out = args.out or osp.join(cfg.work_dir, 'results')
        paths = save_results(collector.metrics, out)
        print(f'\nResults of {args.checkpoint}:\n')
        print(format_markdown(collector.metrics))
        names = {k.rpartition('/')[2] for k in collector.metrics}
        if 'PSNR-RGB' in names and 'LPIPS' not in names:
            print('LPIPS not reported: its weights are not available '
                  'locally (see the warning above).')
        print('Saved: ' + ', '.join(paths))
        if args.save_dir:
            print(f'Restored images: {args.save_dir}')
    return collector.metrics


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
