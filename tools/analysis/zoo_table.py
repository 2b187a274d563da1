"""One table of several models' test results, with the rainy input as a row.

Usage::

    python tools/analysis/zoo_table.py UniRain-S=work_dirs/a/results.json \
        Restormer-S=work_dirs/b/results.json --metrics PSNR-Y SSIM-Y \
        [--sets Rain100H-samples RainDrop-samples] [--out table.md]

Each ``results.json`` is what ``tools/test.py`` writes (flat
``<set>/<metric>`` values). The ``Input`` row comes from the first file's
``Input<metric>`` values; every other file must report the same input
figures (the same test images), or the tool stops: a table whose rows were
scored on different images would compare nothing. Cells are
``value`` (and ``+gain`` over the input for PSNR).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # the evaluation package imports mmagic's metrics
from unirain_mm.evaluation.results_table import (  # noqa: E402
    markdown_table, read_results)
from unirain_mm.fileio import atomic_write_text  # noqa: E402

INPUT_TOLERANCE = 1e-6


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('results', nargs='+', metavar='LABEL=RESULTS.json')
    parser.add_argument('--metrics', nargs='+', default=['PSNR-Y', 'SSIM-Y'])
    parser.add_argument('--sets', nargs='*',
                        help='test sets, in order (default: all of the '
                        'first file, in its order)')
    parser.add_argument('--out', help='also write the table here')
    return parser.parse_args(argv)


def _load(spec: str) -> tuple:
    if '=' not in spec:
        raise SystemExit(f'expected LABEL=RESULTS.json, got {spec!r}')
    label, path = spec.split('=', 1)
    try:
        return label, path, read_results(path)
    except ValueError as e:
        raise SystemExit(str(e))


def build_table(runs: Sequence[tuple], metrics: Sequence[str],
                sets: Sequence[str]) -> List[str]:
    """Markdown lines: one row per model plus the input row."""
    _, first_path, first = runs[0]
    header = ['model'] + [f'{s} {m}' for s in sets for m in metrics]
    rows = []
    inputs: Dict[str, float] = {}
    for s in sets:
        for m in metrics:
            key = f'{s}/Input{m}'
            if key not in first:
                raise SystemExit(f'{first_path}: no {key} (test with the '
                                 'Input metrics)')
            inputs[f'{s}/{m}'] = first[key]
    rows.append(['Input'] + [inputs[f'{s}/{m}'] for s in sets
                             for m in metrics])
    for label, path, results in runs:
        row = [label]
        for s in sets:
            for m in metrics:
                given = results.get(f'{s}/Input{m}')
                if given is None or abs(given - inputs[f'{s}/{m}']) > \
                        INPUT_TOLERANCE:
                    raise SystemExit(
                        f'{path}: {s}/Input{m} = {given} differs from '
                        f'{first_path} ({inputs[f"{s}/{m}"]}): not the same '
                        'test images')
                value = results.get(f'{s}/{m}')
                if value is None:
                    raise SystemExit(f'{path}: no {s}/{m}')
                if m.startswith('PSNR'):
                    gain = value - inputs[f'{s}/{m}']
                    row.append(f'{value:.2f} ({gain:+.2f})')
                else:
                    row.append(value)
        rows.append(row)
    return markdown_table(header, rows)


def main(argv=None) -> str:
    args = parse_args(argv)
    runs = [_load(spec) for spec in args.results]
    sets = args.sets or list(dict.fromkeys(
        k.split('/', 1)[0] for k in runs[0][2]
        if '/' in k and not k.startswith('Avg/')))
    text = '\n'.join(build_table(runs, args.metrics, sets)) + '\n'
    print(text, end='')
    if args.out:
        atomic_write_text(args.out, text)
    return text


if __name__ == '__main__':
    main()
