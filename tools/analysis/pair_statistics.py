"""How an image differs from its clean target, beyond PSNR: per image offset
and texture statistics of rainy inputs and restored outputs.

PSNR says how far an image is from its target, not in what way. This tool
says whether the difference is a global brightness offset, a few changed
pixels (rain) or a change of texture (noise added, or detail smoothed away),
all on the luma (BT.601, grey levels 0..255), image minus target:

* ``offset`` / ``median``: mean and median difference (a global brightening
  or darkening moves the median; sparse rain moves only the mean);
* ``changed``: the share of pixels that differ by more than 5 grey levels;
* ``texture``: the standard deviation of the fine detail (luma minus its
  gaussian blur, sigma 1.5) of the image over that of the target; 1 keeps
  the target's texture, above 1 adds noise or rain, below 1 smooths.

Two modes::

    # real pairs: folders of images with the same file names (the layout
    # that tools/misc/test_realdata.sh writes: OUT/data/SPLIT/TYPE/{target,
    # input} and the restored images in OUT/images/SPLIT)
    python tools/analysis/pair_statistics.py TARGET_DIR INPUT_DIR \\
        [RESTORED_DIR ...] [--csv out.csv]

    # synthetic pairs of one rain type over the clean photos
    python tools/analysis/pair_statistics.py --synthesize NRS \\
        [--photos data/clean_photos] [--num 40] [--size 256] [--seed 0]

Imports neither torch nor mmagic.
"""
from __future__ import annotations

import argparse
import csv
import glob
import os
import os.path as osp
import sys
from typing import Dict, List, Sequence

import cv2
import numpy as np

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm.datasets.rain_synthesis import (  # noqa: E402
    RAIN_TYPES, synthesize)

_LUMA = np.array([0.299, 0.587, 0.114])
_IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
STATS = ('offset', 'median', 'changed', 'texture')


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ _LUMA


def _fine_detail_std(luma: np.ndarray) -> float:
    return float((luma - cv2.GaussianBlur(luma, (0, 0), 1.5)).std())


def pair_stats(image: np.ndarray, target: np.ndarray) -> Dict[str, float]:
    """Statistics of ``image`` against ``target`` (uint8 RGB, same shape)."""
    if image.shape != target.shape:
        raise ValueError(f'shapes differ: {image.shape} vs {target.shape}')
    img_luma, tgt_luma = _luma(image), _luma(target)
    diff = img_luma - tgt_luma
    return dict(offset=float(diff.mean()),
                median=float(np.median(diff)),
                changed=float((np.abs(diff) > 5).mean()),
                texture=_fine_detail_std(img_luma) /
                max(_fine_detail_std(tgt_luma), 1e-6))


def _read_rgb(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f'cannot read image {path}')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _images_by_stem(folder: str) -> Dict[str, str]:
    if not osp.isdir(folder):
        raise SystemExit(f'not a folder: {folder}')
    return {
        osp.splitext(name)[0]: osp.join(folder, name)
        for name in sorted(os.listdir(folder))
        if name.lower().endswith(_IMAGE_EXTS)
    }


def _short_labels(folders: Sequence[str]) -> List[str]:
    """The shortest path endings (at least three parts) that tell the
    folders apart."""
    parts = [osp.abspath(f).split(os.sep) for f in folders]
    for keep in range(3, max(map(len, parts)) + 1):
        labels = ['/'.join(p[-keep:]) for p in parts]
        if len(set(labels)) == len(labels):
            return labels
    return list(folders)


def folder_rows(target_dir: str, image_dirs: Sequence[str]) -> List[dict]:
    """One row per (target image, compared folder), matched by file stem."""
    targets = _images_by_stem(target_dir)
    if not targets:
        raise SystemExit(f'no images in {target_dir}')
    rows = []
    for folder, label in zip(image_dirs, _short_labels(image_dirs)):
        images = _images_by_stem(folder)
        missing = sorted(set(targets) - set(images))
        if missing:
            raise SystemExit(f'{folder} lacks {len(missing)} image(s) of '
                             f'{target_dir}, first: {missing[0]}')
        for stem, target_path in targets.items():
            target = _read_rgb(target_path)
            image = _read_rgb(images[stem])
            if image.shape != target.shape:
                raise SystemExit(f'{images[stem]} is {image.shape[:2]}, its '
                                 f'target {target_path} {target.shape[:2]}')
            rows.append(dict(source=label, name=stem,
                             target_luma=float(_luma(target).mean()),
                             **pair_stats(image, target)))
    return rows


def synthetic_rows(rain_type: str, photos: str, num: int, size: int,
                   seed: int) -> List[dict]:
    """One row per synthetic pair of ``rain_type`` (square ``size`` views)."""
    paths = sorted(glob.glob(osp.join(photos, '*.png')))
    if not paths:
        raise SystemExit(f'no *.png photos in {photos} (run '
                         'tools/misc/collect_clean_photos.py)')
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(num):
        path = paths[i % len(paths)]
        clean = cv2.resize(_read_rgb(path), (size, size),
                           interpolation=cv2.INTER_AREA)
        rainy, target = synthesize(clean, rain_type, rng)
        rows.append(dict(source=f'synthetic {rain_type}',
                         name=osp.splitext(osp.basename(path))[0],
                         target_luma=float(_luma(target).mean()),
                         **pair_stats(rainy, target)))
    return rows


def summary(rows: List[dict]) -> str:
    """A markdown table: mean and range of every statistic per source."""
    lines = ['| compared | n | target luma | ' + ' | '.join(STATS) + ' |',
             '|---|---|---|' + '---|' * len(STATS)]
    for source in dict.fromkeys(r['source'] for r in rows):
        group = [r for r in rows if r['source'] == source]
        cells = []
        for key in ('target_luma', ) + STATS:
            values = np.array([r[key] for r in group])
            cells.append(f'{values.mean():.3f} [{values.min():.3f}, '
                         f'{values.max():.3f}]')
        lines.append(f'| {source} | {len(group)} | ' + ' | '.join(cells) +
                     ' |')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folders', nargs='*',
                        help='TARGET_DIR, then the folders to compare with it')
    parser.add_argument('--synthesize', metavar='TYPE',
                        choices=list(RAIN_TYPES),
                        help='compare synthetic pairs of this rain type')
    parser.add_argument('--photos', default=osp.join('data', 'clean_photos'))
    parser.add_argument('--num', type=int, default=40)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--csv', help='also write every row to this file')
    args = parser.parse_args(argv)
    if bool(args.synthesize) == bool(args.folders):
        parser.error('give either TARGET_DIR and folders or --synthesize')
    if args.folders and len(args.folders) < 2:
        parser.error('give TARGET_DIR and at least one folder to compare')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.synthesize:
        rows = synthetic_rows(args.synthesize, args.photos, args.num,
                              args.size, args.seed)
    else:
        rows = folder_rows(args.folders[0], args.folders[1:])
    print(summary(rows))
    if args.csv:
        tmp = args.csv + '.tmp'
        with open(tmp, 'w', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, args.csv)
        print(f'rows: {args.csv}')


if __name__ == '__main__':
    main()
