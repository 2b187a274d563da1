"""Plot per-type validation losses and loss weights of a reweighted run.

Reads the history that ``ReweightingHook`` writes to the work dir
(``reweighting_history.json``, updated after every validation round, so a
running or interrupted training can be plotted too).

Examples:
    python tools/analysis/plot_reweighting.py work_dirs/unirain_all
    python tools/analysis/plot_reweighting.py \
        work_dirs/unirain_all/reweighting_history.json --out weights.png
"""
import argparse
import json
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from unirain_mm.reweighting import plot_history  # noqa: E402

HISTORY_FILE = 'reweighting_history.json'


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('path', help='work dir or history JSON')
    parser.add_argument(
        '--out', help='PNG to write (default: reweighting.png beside the '
        'history)')
    args = parser.parse_args(argv)
    path = args.path
    if osp.isdir(path):
        path = osp.join(path, HISTORY_FILE)
    if not osp.isfile(path):
        raise SystemExit(f'no reweighting history at {path}')
    with open(path) as f:
        history = json.load(f)
    out = args.out or osp.join(osp.dirname(path), 'reweighting.png')
    plot_history(history, out)
    print(f'wrote {out} ({len(history["records"])} rounds)')
    return out


if __name__ == '__main__':
    main()
