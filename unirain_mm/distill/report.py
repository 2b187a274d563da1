"""Markdown report with charts of a distillation manifest."""
import os
import os.path as osp
import zlib
from collections import Counter, defaultdict
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from unirain_mm.evaluation.results_table import markdown_table  # noqa: E402
from unirain_mm.fileio import atomic_write_text  # noqa: E402
from .images import fit_max_side, read_rgb  # noqa: E402
from .results import read_manifest  # noqa: E402

DECISIONS = ('keep', 'reject', 'abstain')
_COLOURS = {'keep': '#2a9d8f', 'reject': '#e76f51', 'abstain': '#adb5bd'}
# best score of the K3 references, per measure (L2: smallest is best)
_SCORES = {'text_l2': min, 'image_cos': max, 'ssim': max}


def _best_scores(rec: dict) -> Dict[str, float]:
    refs = rec.get('references') or []
    out = {}
    for name, best in _SCORES.items():
        values = [r[name] for r in refs if r.get(name) is not None]
        out[name] = best(values) if values else np.nan
    return out


def _keep_rate_chart(groups: Dict[str, Dict[str, Counter]], path: str):
    fig, axes = plt.subplots(1, len(groups),
                             figsize=(5 * len(groups), 3.6), squeeze=False)
    for ax, (title, counts) in zip(axes[0], groups.items()):
        names = sorted(counts)
        totals = np.array([sum(counts[n].values()) for n in names])
        bottom = np.zeros(len(names))
        for d in DECISIONS:
            frac = np.array([counts[n][d] for n in names]) / totals
            ax.bar(names, frac, bottom=bottom, color=_COLOURS[d], label=d)
            bottom += frac
        for x, n in enumerate(names):
            ax.text(x, 1.01, f'{counts[n]["keep"] / totals[x]:.0%}',
                    ha='center', va='bottom', fontsize=8)
        ax.set_ylim(0, 1.12)
        ax.set_title(f'decision by {title} (label: keep rate)')
        ax.tick_params(axis='x', rotation=30)
    axes[0][0].legend(loc='lower left', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _histograms(scores: Dict[str, Dict[str, List[float]]], path: str):
    fig, axes = plt.subplots(1, len(_SCORES), figsize=(13, 3.4))
    for ax, name in zip(axes, _SCORES):
        for d in DECISIONS:
            values = np.array(scores[d][name], float)
            values = values[np.isfinite(values)]
            if len(values):
                ax.hist(values, bins=30, alpha=0.6, color=_COLOURS[d],
                        label=f'{d} ({len(values)})')
        ax.set_title(f'best reference {name}')
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _example_grid(examples: List[dict], path: str, thumb: int) -> None:
    """Rows: rainy input, clean target, then the references."""
    cols = 2 + max(len(r.get('references') or []) for r in examples)
    fig, axes = plt.subplots(len(examples), cols,
                             figsize=(1.9 * cols, 2.1 * len(examples)),
                             squeeze=False)
    for row, rec in zip(axes, examples):
        refs = rec.get('references') or []
        cells = [(rec['input_path'], rec['key']),
                 (rec['target_path'], 'target')]
        cells += [(r['path'], f'ssim {r["ssim"]:.2f} cos '
                   f'{r["image_cos"]:.2f}') for r in refs]
        for ax in row:
            ax.axis('off')
        for ax, (img_path, title) in zip(row, cells):
            try:
                ax.imshow(fit_max_side(read_rgb(img_path), thumb))
            except FileNotFoundError:
                ax.text(0.5, 0.5, 'unreadable', ha='center')
            ax.set_title(title[:28], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _group_rows(counts: Dict[str, Counter]) -> List[List]:
    rows = []
    for name in sorted(counts):
        c = counts[name]
        total = sum(c.values())
        rows.append([name, total] + [c[d] for d in DECISIONS] +
                    [f'{c["keep"] / total:.1%}'])
    return rows


def make_report(manifest: str, out_dir: str, num_examples: int = 6,
                thumb: int = 160) -> str:
    """Write ``report.md`` and its charts into ``out_dir``.

    Charts: ``keep_rate.png`` (decisions per source and per type),
    ``scores.png`` (histograms of the best reference's caption L2, image
    cosine and SSIM by decision), ``examples_keep.png`` and
    ``examples_reject.png`` (rainy input, target and references of
    ``num_examples`` pairs each, picked by a hash of the key so that reruns
    show the same ones).

    Returns:
        str: Path of ``report.md``.
    """
    os.makedirs(out_dir, exist_ok=True)
    by = {'source': defaultdict(Counter), 'type': defaultdict(Counter)}
    scores = {d: defaultdict(list) for d in DECISIONS}
    judges = defaultdict(Counter)
    picks = {d: [] for d in ('keep', 'reject')}
    total = Counter()
    for rec in read_manifest(manifest):
        d = rec['decision']
        total[d] += 1
        by['source'][rec['source']][d] += 1
        by['type'][rec['rain_type']][d] += 1
        for name, value in _best_scores(rec).items():
            scores[d][name].append(value)
        for j in rec.get('judges') or []:
            judges[j['name']][j['answer']] += 1
        if d in picks and rec.get('references'):
            picks[d].append((zlib.crc32(rec['key'].encode()), rec))
            picks[d] = sorted(picks[d], key=lambda p: p[0])[:num_examples]
    if not total:
        raise ValueError(f'{manifest} holds no records')
    _keep_rate_chart(by, osp.join(out_dir, 'keep_rate.png'))
    _histograms(scores, osp.join(out_dir, 'scores.png'))
    n = sum(total.values())
    lines = ['# Distillation report', '', f'Manifest: `{manifest}`', '',
             f'{n} pairs: ' + ', '.join(
                 f'{total[d]} {d} ({total[d] / n:.1%})' for d in DECISIONS),
             '', '![keep rate](keep_rate.png)', '']
    header = ['', 'pairs', *DECISIONS, 'keep rate']
    for title, counts in by.items():
        lines += [f'## By {title}', ''] + markdown_table(
            [title] + header[1:], _group_rows(counts)) + ['']
    lines += ['## Judges', ''] + markdown_table(
        ['judge', 'yes', 'no', 'abstain'],
        [[name, c['yes'], c['no'], c['abstain']]
         for name, c in sorted(judges.items())]) + ['']
    lines += ['## Retrieval scores', '', '![scores](scores.png)', '']
    for d, chosen in picks.items():
        if chosen:
            name = f'examples_{d}.png'
            _example_grid([rec for _, rec in chosen],
                          osp.join(out_dir, name), thumb)
            lines += [f'## Examples: {d}', '',
                      'Rainy input, clean target, then the references '
                      '(best SSIM first).', '', f'![{d}]({name})', '']
    path = osp.join(out_dir, 'report.md')
    atomic_write_text(path, '\n'.join(lines))
    return path
