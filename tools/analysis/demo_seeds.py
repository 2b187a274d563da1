"""Train and test the demo over several seeds; the gain per type as the
mean and spread over the seeds.

A single training run says little: the same seed gives different figures on
different CPUs, and seeds differ by tenths of a dB on the demo's eight test
images per type. This tool runs the README's training and test step once per
seed (``tools/train.py CONFIG --cfg-options randomness.seed=S``, then
``tools/test.py`` on the last checkpoint), one after the other, and writes
``<work-dir>/seeds.md`` and ``seeds.json``: per rain type the input PSNR, each
seed's PSNR and gain, the mean +- sample standard deviation of the gain, the
smallest gain, and whether every seed gained at least ``--min-gain`` dB.

Each seed works in ``<work-dir>/seed_<S>``; a seed whose test results exist
is not run again, and an interrupted training resumes, so the command can
simply be started again. The demo data must exist (``bash
scripts/run_demo.sh`` or its first two steps).

Examples:
    python tools/analysis/demo_seeds.py                   # seeds 2026 1 2
    python tools/analysis/demo_seeds.py --seeds 2026 1 2 3 \
        --work-dir work_dirs/demo_seeds_lr1e-3 \
        --cfg-options optim_wrapper.optimizer.lr=1e-3
"""
import argparse
import math
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Sequence

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # the evaluation package imports mmagic's metrics
from unirain_mm.evaluation.results_table import (  # noqa: E402
    markdown_table, read_results)
from unirain_mm.fileio import atomic_write_text, save_json_atomic  # noqa: E402

DEFAULT_CONFIG = osp.join('configs', 'unirain', 'unirain_demo_cpu.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--seeds', nargs='+', type=int, default=[2026, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/demo_seeds')
    parser.add_argument('--metric', default='PSNR-Y',
                        help='metric whose gain over the input is reported')
    parser.add_argument('--min-gain', type=float, default=1.0,
                        help='gain (dB) every seed should reach')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='passed to both tools/train.py and '
                        'tools/test.py (after the seed)')
    return parser.parse_args(argv)


def _run(cmd: List[str]) -> None:
    print('+ ' + ' '.join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=REPO_ROOT)
    if code != 0:
        raise SystemExit(f'failed with exit status {code}: {" ".join(cmd)}')


def run_seed(config: str, seed: int, work_dir: str,
             cfg_options: Sequence[str]) -> str:
    """Train and test one seed unless its results exist; their path."""
    results = osp.join(work_dir, 'test', 'results.json')
    if osp.isfile(results):
        print(f'seed {seed}: {results} exists, not run again')
        return results
    options = ['--cfg-options', f'randomness.seed={seed}', *cfg_options]
    train = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
             config, '--work-dir', work_dir, *options]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        train.append('--resume')
    _run(train)
    with open(osp.join(work_dir, 'last_checkpoint'), encoding='utf-8') as f:
        checkpoint = f.read().strip()
    _run([sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'), config,
          checkpoint, '--work-dir', osp.join(work_dir, 'test'), *options])
    return results


def summarize(runs: Dict[int, Dict[str, float]], metric: str,
              min_gain: float) -> dict:
    """Per test set: input, each seed's value and gain, mean/std/min gain.

    Args:
        runs: ``{seed: results}``, each the flat ``<set>/<metric>`` dict that
            ``tools/test.py`` writes, all scored on the same test images.
        metric: e.g. ``PSNR-Y``; the input is read from ``Input<metric>``.
        min_gain: The gain every seed should reach.

    Returns:
        ``{set: {'input', 'values', 'gains', 'mean', 'std', 'min',
        'every_seed_reaches'}}``; ``std`` is the sample standard deviation
        (``nan`` for one seed).

    Raises:
        SystemExit: A file lacks the metric or scored other test images.
    """
    seeds = list(runs)
    first = runs[seeds[0]]
    sets = [k.split('/')[0] for k in first
            if k.endswith(f'/Input{metric}') and not k.startswith('Avg/')]
    if not sets:
        raise SystemExit(f'seed {seeds[0]}: no <set>/Input{metric} in the '
                         'results (test with the Input metrics)')
    table = {}
    for name in sets:
        base = first[f'{name}/Input{metric}']
        values, gains = [], []
        for seed in seeds:
            results = runs[seed]
            given = results.get(f'{name}/Input{metric}')
            if given is None or abs(given - base) > 1e-6:
                raise SystemExit(f'seed {seed}: {name}/Input{metric} = '
                                 f'{given}, not {base}: not the same test '
                                 'images')
            if f'{name}/{metric}' not in results:
                raise SystemExit(f'seed {seed}: no {name}/{metric}')
            values.append(results[f'{name}/{metric}'])
            gains.append(values[-1] - base)
        mean = sum(gains) / len(gains)
        std = (math.sqrt(sum((g - mean)**2 for g in gains) /
                         (len(gains) - 1)) if len(gains) > 1 else math.nan)
        table[name] = dict(input=base, values=values, gains=gains, mean=mean,
                           std=std, min=min(gains),
                           every_seed_reaches=min(gains) >= min_gain)
    return table


def format_table(table: dict, seeds: Sequence[int], metric: str,
                 min_gain: float) -> str:
    header = ['set', f'Input {metric}'] + [f'seed {s}' for s in seeds] + [
        'mean +- std gain', 'min gain', f'every seed >= {min_gain:g} dB']
    rows = []
    for name, row in table.items():
        rows.append([name, f'{row["input"]:.2f}'] + [
            f'{v:.2f} ({g:+.2f})' for v, g in zip(row['values'],
                                                   row['gains'])
        ] + [f'{row["mean"]:+.2f} +- {row["std"]:.2f}', f'{row["min"]:+.2f}',
             'yes' if row['every_seed_reaches'] else 'no'])
    return '\n'.join(markdown_table(header, rows)) + '\n'


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    runs = {}
    for seed in args.seeds:
        path = run_seed(args.config, seed,
                        osp.join(args.work_dir, f'seed_{seed}'),
                        args.cfg_options)
        try:
            runs[seed] = read_results(path)
        except ValueError as e:
            raise SystemExit(str(e))
    table = summarize(runs, args.metric, args.min_gain)
    text = format_table(table, args.seeds, args.metric, args.min_gain)
    print(text, end='')
    atomic_write_text(osp.join(args.work_dir, 'seeds.md'), text)
    save_json_atomic(dict(config=args.config, seeds=args.seeds,
                          metric=args.metric, cfg_options=args.cfg_options,
                          table=table), osp.join(args.work_dir, 'seeds.json'))
    return table


if __name__ == '__main__':
    main()
