"""Per-test-set result tables: metrics ``<set>/<metric>`` as rows/columns,
saved as JSON, CSV and Markdown."""
import csv
import io
import json
from typing import Dict, List, Sequence, Tuple

from unirain_mm.fileio import atomic_write_text

# Columns in this order when present; any other metric follows.
PREFERRED_ORDER = ('PSNR', 'SSIM', 'InputPSNR-Y',
                   'PSNR-Y', 'InputSSIM-Y', 'SSIM-Y', 'InputPSNR-RGB',
                   'PSNR-RGB', 'InputSSIM-pyiqa', 'SSIM-pyiqa', 'LPIPS')

_INPUT_NOTE = 'Input*: the rainy input itself, the "do nothing" reference.'
#: What the labelled metrics measure, printed under the tables that use them.
METRIC_NOTES = {
    'PSNR-Y': 'PSNR-Y, SSIM-Y: Y channel of YCbCr (BT.601), no border '
              "crop: mmagic's deraining convention.",
    'PSNR-RGB': 'PSNR-RGB: the three RGB channels, 0-255, no border crop '
                "(the UniRain authors' PSNR).",
    'SSIM-pyiqa': "SSIM-pyiqa: pyiqa's default ssim: Y of YIQ "
                  '(0.299R+0.587G+0.114B) rounded to 0-255, 11x11 Gaussian '
                  "window (sigma 1.5), 'valid' borders, no downsampling (the "
                  "UniRain authors' SSIM). With it, input and target were "
                  'centre-cropped to a multiple of 16 (--protocol authors).',
    'LPIPS': 'LPIPS: AlexNet trunk, RGB in [-1, 1], lower is better.',
    'InputPSNR-Y': _INPUT_NOTE,
}


def metrics_to_table(
        metrics: Dict[str, float]) -> Tuple[List[str], List[List]]:
    """Arrange flat ``<set>/<metric>`` results as a table.

    Args:
        metrics (dict): E.g. ``{'DRS/PSNR': 30.1, 'Avg/PSNR': 29.0}``.

    Returns:
        tuple[list[str], list[list]]: Column names (``'set'`` first) and one
        row per test set, in first-seen order with ``Avg`` last. Missing
        values are None.
    """
    sets: List[str] = []
    names: List[str] = []
    for key in metrics:
        set_name, _, name = key.rpartition('/')
        if set_name not in sets:
            sets.append(set_name)
        if name not in names:
            names.append(name)
    sets.sort(key=lambda s: s == 'Avg')
    names.sort(key=lambda n: PREFERRED_ORDER.index(n)
               if n in PREFERRED_ORDER else len(PREFERRED_ORDER))
    rows = [[s or '-'] + [metrics.get(f'{s}/{n}' if s else n) for n in names]
            for s in sets]
    return ['set'] + names, rows


def _fmt(value) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.4f}' if abs(value) < 2 else f'{value:.2f}'
    return str(value)


def markdown_table(header: Sequence[str],
                   rows: Sequence[Sequence]) -> List[str]:
    """Lines of a GitHub Markdown table; floats get 2 or 4 decimals."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    return lines + ['| ' + ' | '.join(_fmt(v) for v in row) + ' |'
                    for row in rows]


def format_markdown(metrics: Dict[str, float]) -> str:
    """The table as GitHub Markdown, followed by a note on each labelled
    metric convention it contains."""
    header, rows = metrics_to_table(metrics)
    lines = markdown_table(header, rows)
    notes = list(dict.fromkeys(
        note for name, note in METRIC_NOTES.items() if name in header))
    if notes:
        lines += [''] + [f'- {note}' for note in notes]
    return '\n'.join(lines) + '\n'


def table_to_csv(metrics: Dict[str, float]) -> str:
    """The table as CSV, full precision; missing values are empty."""
    header, rows = metrics_to_table(metrics)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(header)
    writer.writerows([['' if v is None else v for v in row] for row in rows])
    return buf.getvalue()


def save_results(metrics: Dict[str, float], out_prefix: str) -> List[str]:
    """Write ``<out_prefix>.{json,csv,md}`` atomically.

    The JSON holds the flat ``<set>/<metric>`` dict; CSV and Markdown hold
    the table (a row per test set and ``Avg``).

    Returns:
        list[str]: The paths written.
    """
    paths = [out_prefix + ext for ext in ('.json', '.csv', '.md')]
    values = {k: float(v) for k, v in metrics.items()}
    atomic_write_text(paths[0], json.dumps(values, indent=2) + '\n')
    atomic_write_text(paths[1], table_to_csv(values))
    atomic_write_text(paths[2], format_markdown(values))
    return paths


def read_results(path: str) -> Dict[str, float]:
    """Read a ``<set>/<metric>`` JSON written by :func:`save_results`.

    Raises:
        ValueError: The file cannot be read, is not JSON, or is not one flat
            object of numbers (the message names the file).
    """
    try:
        with open(path, encoding='utf-8') as f:
            metrics = json.load(f)
    except OSError as e:
        raise ValueError(f'{path}: cannot read the results file ({e})')
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not JSON ({e})')
    if not isinstance(metrics, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in metrics.values()):
        raise ValueError(f'{path}: expected one JSON object of '
                         '"<set>/<metric>": number, as tools/test.py writes')
    return metrics
