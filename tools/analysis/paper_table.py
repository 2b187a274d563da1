"""Print our test results beside the UniRain paper's published numbers, as a
Markdown table.

Each ``RESULTS.json`` is what ``tools/test.py`` writes
(``<work_dir>/results.json`` or ``--out PREFIX`` -> ``PREFIX.json``): one
flat JSON object of ``"<set>/<metric>": value``, e.g.
``{"DRS/PSNR-RGB": 29.1, "DRS/SSIM-pyiqa": 0.83, "Avg/PSNR-RGB": 28.5}``.
The sets read are the four type test splits ``DRS``, ``DRD``, ``NRS``,
``NRD`` and their average ``Avg``; other sets are ignored. The metrics read
are, in order of preference, ``PSNR-RGB`` / ``SSIM-pyiqa`` / ``LPIPS``
(``--protocol authors``, the paper's convention) or else ``PSNR`` /
``SSIM`` (mmagic's Y-channel default, marked as not comparable).

A results file is matched with the paper's row of the config it was tested
with: give ``ROW=RESULTS.json`` (``ROW`` a config name such as
``unirain_all`` or ``unirain_soft_soft``, see
``unirain_mm/evaluation/paper_results.py``), or the folder holding the file
is taken as the config name (a work dir is named after its config). A file
whose folder names no paper row gets its own row.

Examples:
    python tools/analysis/paper_table.py work_dirs/unirain_all/results.json
    python tools/analysis/paper_table.py \
        unirain_all=out/full.json unirain_soft_soft=out/soft.json \
        --out paper_table.md
"""
import argparse
import math
import os.path as osp
import sys
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from unirain_mm import register_all_modules  # noqa: E402

# unirain_mm.evaluation imports the metrics, i.e. mmagic (and its shims).
register_all_modules()
from unirain_mm.evaluation.paper_results import (  # noqa: E402
    PAPER_ROWS, PAPER_SOURCE, SETS, Triple, paper_value)
from unirain_mm.evaluation.results_table import read_results  # noqa: E402
from unirain_mm.fileio import atomic_write_text  # noqa: E402

#: Metric names per convention, in the order of a cell (PSNR, SSIM, LPIPS).
AUTHORS_NAMES = ('PSNR-RGB', 'SSIM-pyiqa', 'LPIPS')
MMAGIC_NAMES = ('PSNR', 'SSIM', 'LPIPS')

NOTE_METRICS = (
    "The paper's metrics: PSNR on RGB, SSIM as pyiqa computes it by default "
    '(Y of YIQ), LPIPS; `tools/test.py --protocol authors` reproduces them '
    '(our `PSNR-RGB`, `SSIM-pyiqa`, `LPIPS`).')
NOTE_NA = ('n/a: a number of the paper we do not have (not a zero, not '
           'estimated).')
NOTE_MISSING = '-: not in our results file.'
NOTE_Y = ('(Y): our PSNR/SSIM in mmagic\'s Y-channel convention, not '
          'comparable with the paper\'s; rerun `tools/test.py` with '
          '`--protocol authors`.')


class Results(NamedTuple):
    """A results file: set -> (PSNR, SSIM, LPIPS), the file, and whether
    it holds the authors' metrics (``--protocol authors``)."""
    values: Dict[str, Triple]
    path: str
    authors: bool


def load_results(path: str) -> Results:
    """Read a ``tools/test.py`` results JSON.

    Raises:
        SystemExit: The file is missing, not JSON, not a flat object of
            numbers, or holds none of the four types and ``Avg``.
    """
    try:
        metrics = read_results(path)
    except ValueError as e:
        raise SystemExit(str(e))
    authors = any(k.endswith('/PSNR-RGB') for k in metrics)
    names = AUTHORS_NAMES if authors else MMAGIC_NAMES
    values = {}
    for set_name in SETS:
        cell = tuple(metrics.get(f'{set_name}/{n}') for n in names)
        if any(v is not None for v in cell):
            values[set_name] = cell
    if not values:
        raise SystemExit(
            f'{path}: no {" / ".join(names[:2])} of the sets '
            f'{", ".join(SETS)}; is it a tools/test.py results file?')
    return Results(values, path, authors)


def parse_item(item: str) -> Tuple[str, str]:
    """``ROW=PATH`` or ``PATH`` -> (row, path); the row defaults to the
    name of the folder holding the file."""
    row, sep, path = item.partition('=')
    if not sep:
        path = item
        row = osp.basename(osp.dirname(osp.abspath(path)))
    elif row not in PAPER_ROWS:
        raise SystemExit(f'{item}: unknown row {row!r}; the paper rows are '
                         f'{", ".join(PAPER_ROWS)}')
    return row, path


def _num(value: Optional[float], digits: int, missing: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return f'{value:.{digits}f}'


def format_cell(cell: Sequence[Optional[float]], missing: str) -> str:
    """``PSNR / SSIM / LPIPS`` with 2, 4 and 4 decimals; ``missing`` alone
    when all three are missing."""
    parts = [_num(v, d, missing) for v, d in zip(cell, (2, 4, 4))]
    return missing if parts == [missing] * 3 else ' / '.join(parts)


def paper_table(items: Sequence[Tuple[str, Results]]) -> str:
    """The Markdown table: every paper row followed by our results for it,
    then our results that match no paper row, then the notes."""
    header = ['Model', 'Source'] + ['Average' if s == 'Avg' else s
                                    for s in SETS]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    notes = [NOTE_METRICS, NOTE_NA, NOTE_MISSING]

    def ours(label: str, res: Results) -> str:
        source = f'ours{"" if res.authors else " (Y)"}: `{res.path}`'
        cells = [format_cell(res.values.get(s, (None, ) * 3), '-')
                 for s in SETS]
        return '| ' + ' | '.join([label, source] + cells) + ' |'

    for key, row in PAPER_ROWS.items():
        label = row.label + ('*' if row.note else '')
        cells = [format_cell(paper_value(key, s), 'n/a') for s in SETS]
        lines.append('| ' + ' | '.join([label, f'paper ({row.table})'] +
                                       cells) + ' |')
        lines += [ours(label, res) for name, res in items if name == key]
        if row.note:
            notes.append(f'{label}: {row.note}.')
    lines += [ours(name, res) for name, res in items
              if name not in PAPER_ROWS]
    if any(not res.authors for _, res in items):
        notes.append(NOTE_Y)
    title = (f"Our results beside the paper's: {PAPER_SOURCE}, RainRAG "
             'test splits. Cells: PSNR / SSIM / LPIPS.')
    return '\n'.join([title, ''] + lines + [''] +
                     [f'- {n}' for n in notes]) + '\n'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Print tools/test.py results beside the UniRain paper's "
        'numbers as a Markdown table')
    parser.add_argument('results', nargs='+', metavar='[ROW=]RESULTS.json',
                        help='results of tools/test.py; ROW is the config '
                        'name of the paper row (default: the folder name)')
    parser.add_argument('--out', help='also write the table to this file')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    items = []
    for item in args.results:
        row, path = parse_item(item)
        items.append((row, load_results(path)))
    text = paper_table(items)
    print(text, end='')
    if args.out:
        atomic_write_text(args.out, text)
    return text


if __name__ == '__main__':
    main()
