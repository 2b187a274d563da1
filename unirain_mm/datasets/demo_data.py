"""A small, deterministic rain dataset built from scikit-image's photos.

The clean images are the colour photos that ship inside scikit-image (no
download, works offline). Two of them are held out for the test split so
that train and test crops never share a photo:

* test: ``chelsea`` and ``coffee`` (:data:`TEST_PHOTOS`);
* train: ``astronaut``, ``rocket``, ``motorcycle_left``,
  ``motorcycle_right``, ``hubble_deep_field``, ``ihc`` and ``retina``
  (the two motorcycle views are a stereo pair, so both stay in train);
* val: other random crops of the train photos, for model selection and
  loss reweighting, so that the test split steers nothing.

Every sample is synthesised with :func:`unirain_mm.datasets.rain_synthesis
.synthesize` from its own child generator, seeded by ``(seed, split, type,
index)`` through :class:`numpy.random.SeedSequence`, so the same seed gives
byte-identical files whatever the generation order. Layout::

    <root>/demo_meta.json
    <root>/<split>/<type>/input/<name>.png     rainy image
    <root>/<split>/<type>/target/<name>.png    clean (day) or night target

with ``split`` in ``(train, test, val)``, ``type`` in ``RAIN_TYPES`` and names
like ``drs_train_0000.png``. Use ``python tools/misc/make_demo_data.py``.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import os.path as osp
import shutil
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from unirain_mm.rain_types import RAIN_TYPES
from .rain_synthesis import synthesize

__all__ = [
    'TEST_PHOTOS', 'SPLITS', 'clean_photos', 'split_photos', 'sample_name',
    'generate_demo_data', 'main'
]

#: Version of the generation recipe; bump it when outputs change.
GENERATOR_VERSION = 5
#: Photos held out for the test split.
TEST_PHOTOS = ('chelsea', 'coffee')
SPLITS = ('train', 'test', 'val')  # val last: keeps the older streams
META_FILE = 'demo_meta.json'

# name -> (skimage.data function, file in skimage/data); the stereo pair is
# one function returning (left, right, disparity).
_PHOTO_SOURCES = {
    'astronaut': ('astronaut', 'astronaut.png'),
    'chelsea': ('chelsea', 'chelsea.png'),
    'coffee': ('coffee', 'coffee.png'),
    'rocket': ('rocket', 'rocket.jpg'),
    'motorcycle_left': (None, 'motorcycle_left.png'),
    'motorcycle_right': (None, 'motorcycle_right.png'),
    'hubble_deep_field': ('hubble_deep_field', 'hubble_deep_field.jpg'),
    'ihc': ('immunohistochemistry', 'ihc.png'),
    'retina': ('retina', 'retina.jpg'),
}
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]
# A crop must have at least this grey-level std (0..255) unless no better
# one is found, which avoids empty black borders (retina, hubble).
_MIN_CROP_STD = 12.0
_CROP_TRIES = 8


def _as_rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]  # drop alpha
    if img.dtype != np.uint8:
        raise ValueError(f'expected a uint8 photo, got {img.dtype}')
    return np.ascontiguousarray(img)


@functools.lru_cache(maxsize=None)
def _load_photo(name: str) -> np.ndarray:
    """Decode one bundled photo (cached; callers must not modify it)."""
    import skimage.data
    func, filename = _PHOTO_SOURCES[name]
    if func is None:  # the stereo pair
        left, right, _ = skimage.data.stereo_motorcycle()
        return _as_rgb(left if name.endswith('left') else right)
    try:
        return _as_rgb(getattr(skimage.data, func)())
    except (AttributeError, OSError, ValueError):
        # Fall back on the file inside the installed package.
        path = osp.join(osp.dirname(skimage.data.__file__), filename)
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f'cannot read scikit-image photo {path}')
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def clean_photos() -> Dict[str, np.ndarray]:
    """Load the colour photos bundled with scikit-image.

    Returns:
        An ordered dict ``name -> uint8 RGB HxWx3`` array for astronaut,
        chelsea, coffee, rocket, motorcycle_left, motorcycle_right,
        hubble_deep_field, ihc and retina. Nothing is downloaded.
    """
    return {name: _load_photo(name).copy() for name in _PHOTO_SOURCES}


def split_photos() -> Dict[str, List[str]]:
    """Names of the photos used by each split (disjoint).

    Returns:
        ``{'train': [...], 'test': [...], 'val': [...]}``; val uses the
        train photos.
    """
    train = [n for n in _PHOTO_SOURCES if n not in TEST_PHOTOS]
    return {'train': train, 'test': list(TEST_PHOTOS), 'val': list(train)}


def sample_name(split: str, rain_type: str, index: int) -> str:
    """File name of a sample, e.g. ``drs_train_0000.png``."""
    return f'{rain_type.lower()}_{split}_{index:04d}.png'


def _random_crop(photo: np.ndarray, size: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Random rescale (0.5-1.0), ``size`` x ``size`` crop and h-flip."""
    h, w = photo.shape[:2]
    best, best_std = None, -1.0
    for _ in range(_CROP_TRIES):
        scale = rng.uniform(0.5, 1.0)
        # Crop size in the original photo that maps to `size` after scaling.
        side = int(round(size / scale))
        side = min(max(side, 1), h, w)
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        crop = photo[y:y + side, x:x + side]
        std = float(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).std())
        if std > best_std:
            best, best_std = crop, std
        if std >= _MIN_CROP_STD:
            break
    interp = cv2.INTER_AREA if best.shape[0] >= size else cv2.INTER_CUBIC
    crop = cv2.resize(best, (size, size), interpolation=interp)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64))**2))
    return float('inf') if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _write_png(path: str, img: np.ndarray) -> None:
    """Write an RGB uint8 image as PNG (raises on failure)."""
    if not cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                       _PNG_PARAMS):
        raise OSError(f'failed to write {path}')


def _params(seed: int, num_train: int, num_test: int, num_val: int,
            size: int) -> Dict[str, object]:
    return {
        'generator_version': GENERATOR_VERSION,
        'seed': int(seed),
        'num_train': int(num_train),
        'num_test': int(num_test),
        'num_val': int(num_val),
        'size': int(size),
        'test_photos': list(TEST_PHOTOS),
    }


def _counts(params: Dict[str, object]) -> Dict[str, int]:
    return {split: params[f'num_{split}'] for split in SPLITS}


def _is_complete(root: str, params: Dict[str, object]) -> bool:
    counts = _counts(params)
    for split in SPLITS:
        for code in RAIN_TYPES:
            for sub in ('input', 'target'):
                folder = osp.join(root, split, code, sub)
                if not osp.isdir(folder):
                    return False
                names = [n for n in os.listdir(folder) if n.endswith('.png')]
                if len(names) != counts[split]:
                    return False
    return True


def _read_meta(root: str) -> Optional[dict]:
    path = osp.join(root, META_FILE)
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _generate_into(folder: str, params: Dict[str, object],
                   progress: bool) -> dict:
    photos = clean_photos()
    by_split = split_photos()
    counts = _counts(params)
    size = params['size']
    total = sum(counts.values()) * len(RAIN_TYPES)
    psnrs: Dict[str, Dict[str, List[float]]] = {
        s: {c: []
            for c in RAIN_TYPES}
        for s in SPLITS
    }
    with tqdm(total=total, desc='demo data', unit='img',
              disable=not progress) as bar:
        for split_id, split in enumerate(SPLITS):
            names = by_split[split]
            for type_id, code in enumerate(RAIN_TYPES):
                in_dir = osp.join(folder, split, code, 'input')
                gt_dir = osp.join(folder, split, code, 'target')
                os.makedirs(in_dir)
                os.makedirs(gt_dir)
                for index in range(counts[split]):
                    seq = np.random.SeedSequence(
                        params['seed'], spawn_key=(split_id, type_id, index))
                    rng = np.random.default_rng(seq)
                    photo = photos[names[int(rng.integers(len(names)))]]
                    clean = _random_crop(photo, size, rng)
                    rainy, target = synthesize(clean, type_id, rng)
                    name = sample_name(split, code, index)
                    _write_png(osp.join(in_dir, name), rainy)
                    _write_png(osp.join(gt_dir, name), target)
                    psnrs[split][code].append(_psnr(rainy, target))
                    bar.update(1)
    return {
        'params': dict(params),
        'photos': by_split,
        'counts': {s: {c: len(psnrs[s][c])
                       for c in RAIN_TYPES}
                   for s in SPLITS},
        'psnr': {
            s: {c: float(np.mean(psnrs[s][c])) if psnrs[s][c] else None
                for c in RAIN_TYPES}
            for s in SPLITS
        },
    }


def generate_demo_data(root: str,
                       seed: int = 0,
                       num_train: int = 32,
                       num_test: int = 8,
                       num_val: int = 8,
                       size: int = 128,
                       overwrite: bool = False,
                       progress: bool = True) -> dict:
    """Generate (or reuse) the demo dataset under ``root``.

    Everything is written into a temporary sibling directory that is renamed
    to ``root`` only once complete, so an interrupted run leaves neither a
    partial ``root`` nor the temporary directory behind.

    Args:
        root: Output folder.
        seed: Base seed; the same seed gives byte-identical files.
        num_train: Samples per rain type in the train split.
        num_test: Samples per rain type in the test split.
        num_val: Samples per rain type in the val split.
        size: Side of the square crops in pixels (>= 16).
        overwrite: Regenerate and replace whatever is at ``root``. When
            False, an existing complete dataset with the same parameters is
            reused as is, and anything else at ``root`` raises.
        progress: Show a tqdm progress bar.

    Returns:
        A summary dict with ``root``, ``params``, ``photos`` (names per
        split), ``counts[split][type]`` and ``psnr[split][type]`` (mean PSNR
        in dB of the inputs vs. their targets, RGB, 0..255).

    Raises:
        FileExistsError: If ``root`` exists but does not hold a complete
            dataset with the same parameters and ``overwrite`` is False.
        ValueError: For invalid counts or size.
    """
    if size < 16:
        raise ValueError(f'size must be >= 16, got {size}')
    if min(num_train, num_test, num_val) < 0:
        raise ValueError(f'sample counts must be >= 0, got '
                         f'num_train={num_train}, num_test={num_test}, '
                         f'num_val={num_val}')
    root = osp.abspath(root)
    params = _params(seed, num_train, num_test, num_val, size)

    if osp.lexists(root) and not overwrite:
        if not osp.isdir(root):
            raise FileExistsError(f'{root} exists and is not a directory; '
                                  'pass overwrite=True to replace it')
        meta = _read_meta(root)
        if meta is not None and meta.get('params') == params and \
                _is_complete(root, params):
            summary = dict(meta['summary'])
            summary['root'] = root
            return summary
        if os.listdir(root):
            found = meta.get('params') if meta else 'no demo_meta.json'
            raise FileExistsError(
                f'{root} already exists and does not hold a complete demo '
                f'dataset with parameters {params} (found: {found}); pass '
                'overwrite=True (--overwrite) to replace it or choose '
                'another root')

    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.tmp-', dir=parent)
    try:
        summary = _generate_into(tmp, params, progress)
        with open(osp.join(tmp, META_FILE), 'w') as f:
            json.dump({'params': params, 'summary': summary}, f, indent=2)
        if osp.lexists(root):  # overwrite, or an empty directory
            old = tempfile.mkdtemp(
                prefix=f'.{osp.basename(root)}.old-', dir=parent)
            os.replace(root, osp.join(old, 'data'))
            try:
                os.replace(tmp, root)
            except BaseException:
                os.replace(osp.join(old, 'data'), root)  # put it back
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary['root'] = root
    return summary


def format_summary(summary: dict) -> str:
    """Render a summary from :func:`generate_demo_data` as a text table."""
    lines = [f"root: {summary['root']}",
             f"{'split':<6} {'type':<4} {'count':>5} {'PSNR(dB)':>9}"]
    for split in SPLITS:
        for code in RAIN_TYPES:
            psnr = summary['psnr'][split][code]
            psnr_s = f'{psnr:9.2f}' if psnr is not None else f"{'-':>9}"
            lines.append(f"{split:<6} {code:<4} "
                         f"{summary['counts'][split][code]:>5} {psnr_s}")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; prints the summary table.

    Args:
        argv: Arguments (defaults to ``sys.argv[1:]``).

    Returns:
        The summary dict.
    """
    parser = argparse.ArgumentParser(
        description='Generate the deterministic UniRain demo dataset from '
        "scikit-image's bundled photos (offline).")
    parser.add_argument('--root', default='data/demo', help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=32,
                        help='train samples per rain type')
    parser.add_argument('--num-test', type=int, default=8,
                        help='test samples per rain type')
    parser.add_argument('--num-val', type=int, default=8,
                        help='validation samples per rain type')
    parser.add_argument('--size', type=int, default=128,
                        help='crop side in pixels')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing, different dataset')
    args = parser.parse_args(argv)
    start = time.perf_counter()
    summary = generate_demo_data(args.root, seed=args.seed,
                                 num_train=args.num_train,
                                 num_test=args.num_test,
                                 num_val=args.num_val, size=args.size,
                                 overwrite=args.overwrite)
    print(format_summary(summary))
    print(f'done in {time.perf_counter() - start:.1f} s')
    return summary
