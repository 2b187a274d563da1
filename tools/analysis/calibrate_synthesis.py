"""Calibrate the rain synthesis against the paper's test-input difficulty.

Synthesises ``--num`` pairs per rain type from clean photos (the folder of
``tools/misc/collect_clean_photos.py``, or scikit-image's colour photos when
that folder is absent), prints the mean +- std RGB PSNR of the rainy inputs
against their targets beside the PSNR of the UniRain paper's test inputs,
and writes a grid of examples (rows: clean | DRS | DRD | NRS | NRD).

Usage::

    python tools/analysis/calibrate_synthesis.py [--photos data/clean_photos]
        [--num 48] [--size 512] [--seed 0] [--grid docs/images/...png]
        [--json out.json]

Imports neither torch nor mmagic.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import math
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm.datasets.rain_synthesis import (  # noqa: E402
    HEAVY_RAIN_PROB, RAIN_TYPES, synthesize)

#: Mean RGB PSNR (dB) of the rainy test inputs in the UniRain paper.
PAPER_INPUT_PSNR = {'DRS': 23.79, 'DRD': 20.79, 'NRS': 26.89, 'NRD': 21.05}
TOLERANCE_DB = 1.5
DEFAULT_PHOTOS = osp.join('data', 'clean_photos')
DEFAULT_GRID = osp.join('docs', 'images', 'synthesis_grid.png')
_SKIMAGE_PHOTOS = ('astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg',
                   'motorcycle_left.png')


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """RGB PSNR in dB of two uint8 images (0..255), capped at 100."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 100.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def load_photos(folder: Optional[str]) -> Dict[str, np.ndarray]:
    """Clean RGB photos by name: ``folder/*.png``, else scikit-image's."""
    paths = sorted(glob.glob(osp.join(folder, '*.png'))) if folder else []
    if not paths:
        spec = importlib.util.find_spec('skimage')
        if spec is None:
            raise SystemExit(f'no photos in {folder} and no scikit-image')
        data = osp.join(list(spec.submodule_search_locations)[0], 'data')
        paths = [osp.join(data, f) for f in _SKIMAGE_PHOTOS]
        print(f'{folder} has no photos: using scikit-image\'s',
              file=sys.stderr)
    photos = {}
    for path in paths:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is not None:
            photos[osp.splitext(osp.basename(path))[0]] = bgr[..., ::-1]
    return photos


def fit_long_side(img: np.ndarray, size: int) -> np.ndarray:
    """Resize so that the long side is ``size`` (aspect kept)."""
    h, w = img.shape[:2]
    scale = size / max(h, w)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out = cv2.resize(img, (max(16, round(w * scale)),
                           max(16, round(h * scale))), interpolation=interp)
    return np.ascontiguousarray(out)


def calibrate(photos: Dict[str, np.ndarray], num: int, size: int,
              seed: int) -> Dict[str, object]:
    """Synthesise ``num`` pairs per type; PSNRs and example images.

    Sample ``i`` of type ``t`` uses the same photo for every type, spread
    evenly over the ``P`` photos in name order (``i * P // num``, or
    ``i mod P`` when ``num > P``) and its own generator seeded by
    ``(seed, t, i)``. A fraction :data:`HEAVY_RAIN_PROB` of the DRS samples,
    evenly spread, is heavy rain (synthesize draws it at random with that
    probability). The examples are four samples spread over the photos
    (the last replaced by a heavy DRS sample if none of them is heavy).

    Returns:
        ``{'psnr': {type: [dB, ...]}, 'heavy': [bool per DRS sample],
        'examples': [(clean, {type: rainy}) for the first samples]}``.
    """
    names = sorted(photos)
    count = len(names)
    keep = set(np.linspace(0, min(num, count) - 1, 4).round().astype(int))
    psnrs: Dict[str, List[float]] = {c: [] for c in RAIN_TYPES}
    heavy_flags: List[bool] = []
    examples: List[tuple] = []
    heavy_example = None
    for i in range(num):
        index = i * count // num if num <= count else i % count
        clean = fit_long_side(photos[names[index]], size)
        rainy_by_type = {}
        for type_id, code in enumerate(RAIN_TYPES):
            rng = np.random.default_rng(
                np.random.SeedSequence(seed, spawn_key=(type_id, i)))
            heavy = None
            if code == 'DRS':
                # Stratified: exactly floor(num * p) evenly spread heavy
                # samples, so the mean estimates the mixture's expectation
                # without the large noise of a random heavy/light split.
                heavy = math.floor((i + 1) * HEAVY_RAIN_PROB) > math.floor(
                    i * HEAVY_RAIN_PROB)
                heavy_flags.append(heavy)
            rainy, target = synthesize(clean, code, rng, heavy=heavy)
            psnrs[code].append(psnr(rainy, target))
            rainy_by_type[code] = rainy
        if i in keep:
            examples.append((clean, rainy_by_type))
        elif heavy_example is None and heavy_flags[-1]:
            heavy_example = (clean, rainy_by_type)
    if heavy_example is not None and not any(
            heavy_flags[i] for i in sorted(keep)):
        examples[-1] = heavy_example  # show heavy rain too
    return {'psnr': psnrs, 'heavy': heavy_flags, 'examples': examples}


def table(result: Dict[str, object]) -> str:
    """Markdown table: measured mean +- std beside the paper's inputs."""
    lines = ['| type | paper input PSNR | synthesised mean +- std | '
             'difference | within 1.5 dB | n |', '|---|---|---|---|---|---|']
    psnrs = result['psnr']
    for code in RAIN_TYPES:
        vals = np.array(psnrs[code])
        diff = vals.mean() - PAPER_INPUT_PSNR[code]
        ok = 'yes' if abs(diff) <= TOLERANCE_DB else 'no'
        lines.append(f'| {code} | {PAPER_INPUT_PSNR[code]:.2f} | '
                     f'{vals.mean():.2f} +- {vals.std():.2f} | '
                     f'{diff:+.2f} | {ok} | {len(vals)} |')
    drs = np.array(psnrs['DRS'])
    heavy = np.array(result['heavy'], dtype=bool)
    for label, sel in (('DRS light', ~heavy), ('DRS heavy', heavy)):
        if sel.any():
            lines.append(f'| {label} | | {drs[sel].mean():.2f} +- '
                         f'{drs[sel].std():.2f} | | | {int(sel.sum())} |')
    return '\n'.join(lines)


def write_grid(examples: Sequence[tuple], path: str, cols: int = 4,
               tile: int = 200) -> None:
    """Rows clean | DRS | DRD | NRS | NRD; one column per example photo.

    Each tile is a centred square crop resized to ``tile`` pixels, so the
    rain is shown near its native scale rather than shrunk away. The PNG
    keeps 6 bits per channel (an invisible change) so that it stays well
    under 1 MB for the docs; noise and rain make full-depth PNGs large.
    """
    rows = []
    for key in ('clean', ) + tuple(RAIN_TYPES):
        tiles = []
        for clean, rainy in examples[:cols]:
            img = clean if key == 'clean' else rainy[key]
            h, w = img.shape[:2]
            side = min(h, w)
            y0, x0 = (h - side) // 2, (w - side) // 2
            crop = img[y0:y0 + side, x0:x0 + side]
            crop = cv2.resize(crop, (tile, tile), interpolation=cv2.INTER_AREA)
            crop = np.ascontiguousarray(crop[..., ::-1])
            cv2.putText(crop, key, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                        (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(crop, key, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                        (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(crop)
        rows.append(np.hstack(tiles))
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    grid = np.vstack(rows) & 0xFC
    cv2.imwrite(path, grid, [cv2.IMWRITE_PNG_COMPRESSION, 9])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--photos', default=DEFAULT_PHOTOS,
                        help=f'folder of clean PNG photos (default '
                        f'{DEFAULT_PHOTOS}; scikit-image photos if empty)')
    parser.add_argument('--num', type=int, default=48,
                        help='pairs per rain type (default 48)')
    parser.add_argument('--size', type=int, default=512,
                        help='long side of the photos in pixels (default '
                        '512)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--grid', default=DEFAULT_GRID,
                        help=f'example grid PNG (default {DEFAULT_GRID}); '
                        '"" to skip')
    parser.add_argument('--json', default=None,
                        help='also write the PSNRs and the table here')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.num < 1 or args.size < 16:
        raise SystemExit('--num must be >= 1 and --size >= 16')
    photos = load_photos(args.photos)
    start = time.perf_counter()
    result = calibrate(photos, args.num, args.size, args.seed)
    elapsed = time.perf_counter() - start
    text = table(result)
    print(f'{len(photos)} photos, long side {args.size}, seed {args.seed}, '
          f'{elapsed:.1f} s\n')
    print(text)
    if args.grid:
        write_grid(result['examples'], args.grid)
        print(f'\ngrid: {args.grid}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'args': vars(args), 'psnr': result['psnr'],
                       'heavy': result['heavy'], 'table': text}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
