"""Compare loss-weighting strategies on the demo data at the same budget.

Trains the demo UniRain once per strategy from the configs in
``configs/unirain/ablations/`` (same model, data, seed, schedule and
validation cadence; only the ReweightingHook strategy differs), then tests
each final model on every test set (Y-channel PSNR/SSIM, no border crop, as
``tools/test.py``). Writes ``<work-dir>/ablation.md`` (per-type PSNR, one row
per strategy) and ``<work-dir>/ablation.json`` (all metrics), updated after
each strategy; each run keeps its logs, checkpoints and reweighting plot in
``<work-dir>/<strategy>/``. Strategies whose results are already in the JSON
are not trained again (delete it to start over).

The weights are steered by the per-type L1 of the demo's val split (other
crops of the training photos); the scores come from the test split, whose
photos training and validation never see.

Examples:
    python tools/misc/make_demo_data.py --root data/demo
    python tools/analysis/ablate_reweighting.py   # uniform vs CoBa
    python tools/analysis/ablate_reweighting.py --strategies all
    python tools/analysis/ablate_reweighting.py --max-iters 20 \
        --val-interval 10 --work-dir /tmp/ablate_smoke          # smoke test
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import Dict, List

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from unirain_mm.datasets.data_root import set_data_root  # noqa: E402
from unirain_mm.engine import CollectMetricsHook  # noqa: E402
from unirain_mm.evaluation import save_results  # noqa: E402
from unirain_mm.evaluation.results_table import markdown_table  # noqa: E402
from unirain_mm.fileio import atomic_write_text, save_json_atomic  # noqa: E402
from unirain_mm.rain_types import RAIN_TYPES  # noqa: E402

STRATEGIES = ('uniform', 'coba_official', 'coba_paper', 'dwa', 'famo')
CONFIG_TMPL = osp.join(REPO_ROOT, 'configs', 'unirain', 'ablations',
                       'unirain_demo_{}.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--strategies',
        nargs='+',
        default=['uniform', 'coba_official'],
        choices=STRATEGIES + ('all', ),
        help='strategies to train (default: uniform coba_official)')
    parser.add_argument('--work-dir', default='work_dirs/ablate_reweighting')
    parser.add_argument(
        '--max-iters', type=int, help='training budget (default: config)')
    parser.add_argument(
        '--val-interval',
        type=int,
        help='iterations per validation/reweighting round (default: config)')
    parser.add_argument(
        '--data-root',
        help='data root of every loader, the training LMDB in '
        'DATA_ROOT/lmdb/train (default: the config\'s data_root)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides applied to every strategy\'s config')
    args = parser.parse_args(argv)
    if 'all' in args.strategies:
        args.strategies = list(STRATEGIES)
    return args


def build_config(name: str, args: argparse.Namespace) -> Config:
    """The ablation config of one strategy with the command-line budget."""
    cfg = Config.fromfile(CONFIG_TMPL.format(name))
    if args.max_iters is not None:
        cfg.train_cfg.max_iters = args.max_iters
        cfg.param_scheduler.update(end=args.max_iters, T_max=args.max_iters)
    if args.val_interval is not None:
        cfg.train_cfg.val_interval = args.val_interval
    # every loader below the config's data root, or below --data-root
    set_data_root(cfg, args.data_root)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = osp.join(args.work_dir, name)
    # Runners of one process must not share logger/message-hub instances.
    cfg.experiment_name = f'ablate_{name}_{time.strftime("%Y%m%d_%H%M%S")}'
    return cfg


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    """Per-type and average Y-channel PSNR (dB) of each strategy as
    Markdown."""
    columns = list(RAIN_TYPES) + ['Avg']
    base = results.get('uniform', {}).get('Avg/PSNR-Y')
    header = ['strategy'] + [f'{c} PSNR-Y' for c in columns]
    if base is not None:
        header.append('Avg vs uniform')
    rows = []
    for name, metrics in results.items():
        row = [name] + [f'{metrics[f"{c}/PSNR-Y"]:.2f}' for c in columns]
        if base is not None:
            row.append(f'{metrics["Avg/PSNR-Y"] - base:+.2f}')
        rows.append(row)
    return '\n'.join(markdown_table(header, rows)) + '\n'


def main(argv=None) -> Dict[str, Dict[str, float]]:
    args = parse_args(argv)
    json_path = osp.join(args.work_dir, 'ablation.json')
    train_cfg = build_config(args.strategies[0], args).train_cfg
    budget = dict(max_iters=train_cfg.max_iters,
                  val_interval=train_cfg.val_interval)
    results: Dict[str, Dict[str, float]] = {}
    if osp.isfile(json_path):
        with open(json_path) as f:
            previous = json.load(f)
        if previous['budget'] != budget:
            raise SystemExit(f'{json_path} holds results for '
                             f'{previous["budget"]}, not {budget}: use '
                             'another --work-dir')
        results = previous['results']
    todo: List[str] = [s for s in args.strategies if s not in results]
    for name in todo:
        cfg = build_config(name, args)
        runner = Runner.from_cfg(cfg)
        runner.train()
        collector = CollectMetricsHook()
        runner.register_hook(collector)
        runner.test()
        results[name] = collector.metrics
        save_results(collector.metrics, osp.join(cfg.work_dir, 'results'))
        save_json_atomic(dict(budget=budget, results=results), json_path)
    table = format_table({s: results[s] for s in args.strategies})
    atomic_write_text(osp.join(args.work_dir, 'ablation.md'), table)
    print(table)
    return results


if __name__ == '__main__':
    main()
