"""Training-pipeline throughput: LMDB versus the same pairs as PNG files.

Writes ``--num-pairs`` rainy/clean pairs of ``--size`` (cut from the
scikit-image photos, rain from the demo synthesis) as PNG files at zlib's
default level 6 (what PIL and MATLAB write), packs the same pairs into LMDB
at each ``--levels`` PNG compression level, then runs the real training
pipeline of ``configs/_base_/datasets/unirain_4types.py`` (LoadRainPair,
128x128 crop, flips, transpose, PackInputs) through a DataLoader for each
source and worker count. Sources are timed in turn, ``--repeats`` rounds, so
they share the machine's noise; the median round counts. Both sources are
read once before timing, so both come from the page cache (a cold cache
would favour LMDB's one sequential file further).

Example:
    python tools/analysis/benchmark_dataloading.py --workers 0 2 \
        --out work_dirs/benchmarks/dataloading
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from unirain_mm.datasets import PairedLmdbDataset, RainTypeDataset  # noqa: E402
from unirain_mm.datasets.demo_data import clean_photos  # noqa: E402
from unirain_mm.datasets.lmdb_pack import pack_pairs  # noqa: E402
from unirain_mm.datasets.pairs import records_from_layout  # noqa: E402
from unirain_mm.datasets.rain_synthesis import synthesize  # noqa: E402
from unirain_mm.evaluation.results_table import markdown_table  # noqa: E402
from unirain_mm.fileio import atomic_write_text, save_json_atomic  # noqa: E402
from unirain_mm.rain_types import RAIN_TYPES  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def write_png_pairs(root: str, num_pairs: int, size: tuple) -> None:
    """``root/train/<type>/{input,target}/<i>.png``, cycling the types."""
    rng = np.random.default_rng(0)
    photos = list(clean_photos().values())
    w, h = size
    for i in range(num_pairs):
        rain_type = RAIN_TYPES[i % len(RAIN_TYPES)]
        photo = photos[i % len(photos)]
        scale = max(w / photo.shape[1], h / photo.shape[0]) * 1.2
        big = cv2.resize(photo, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_CUBIC)
        y = rng.integers(0, big.shape[0] - h + 1)
        x = rng.integers(0, big.shape[1] - w + 1)
        rainy, clean = synthesize(np.ascontiguousarray(
            big[y:y + h, x:x + w]), rain_type, rng)
        for sub, img in (('input', rainy), ('target', clean)):
            folder = osp.join(root, 'train', rain_type, sub)
            os.makedirs(folder, exist_ok=True)
            cv2.imwrite(osp.join(folder, f'{i:05d}.png'), img[..., ::-1],
                        [cv2.IMWRITE_PNG_COMPRESSION, 6])


def samples_per_second(dataset, workers: int, batch: int,
                       num_batches: int) -> float:
    """Samples/s over ``num_batches`` batches after one warm-up batch."""
    loader = DataLoader(dataset, batch_size=batch, shuffle=True,
                        num_workers=workers, collate_fn=pseudo_collate,
                        persistent_workers=False, drop_last=True)
    it = iter(loader)
    next(it)  # worker start-up and first opens are not throughput
    start = time.perf_counter()
    for _ in range(num_batches):
        next(it)
    return num_batches * batch / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-pairs', type=int, default=256)
    parser.add_argument('--size', type=int, nargs=2, default=[720, 480],
                        metavar=('W', 'H'), help='image size (RainDrop\'s)')
    parser.add_argument('--levels', type=int, nargs='+', default=[1, 0],
                        help='PNG compression levels of the LMDBs')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--batches', type=int, default=24,
                        help='timed batches per measurement')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--data', default='work_dirs/benchmarks/loading_data',
                        help='where the pairs are written (reused)')
    parser.add_argument('--out', default='work_dirs/benchmarks/dataloading')
    args = parser.parse_args(argv)

    init_default_scope('mmagic')
    size_tag = f'{args.num_pairs}x{args.size[0]}x{args.size[1]}'
    png_root = osp.join(args.data, size_tag, 'png')
    if not osp.isdir(osp.join(png_root, 'train')):
        write_png_pairs(png_root, args.num_pairs, tuple(args.size))
    records = records_from_layout(png_root, 'train')
    pipeline = Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'datasets',
        'unirain_4types.py')).train_pipeline
    sources = {'PNG files': RainTypeDataset(png_root, split='train',
                                            pipeline=pipeline)}
    disk = {'PNG files': sum(
        osp.getsize(r.input_path) + osp.getsize(r.target_path)
        for r in records)}
    for level in args.levels:
        root = osp.join(args.data, size_tag, f'lmdb_level{level}')
        pack_pairs(records, root, compress_level=level, num_workers=2)
        name = f'LMDB (PNG level {level})'
        sources[name] = PairedLmdbDataset(root, pipeline=pipeline)
        disk[name] = sum(
            osp.getsize(osp.join(root, db, 'data.mdb'))
            for db in ('input.lmdb', 'target.lmdb'))
    for ds in sources.values():  # page cache: read everything once
        for i in range(len(ds)):
            ds[i]

    rates = {(s, w): [] for s in sources for w in args.workers}
    for rep in range(args.repeats):
        for w in args.workers:
            for name, ds in sources.items():
                rate = samples_per_second(ds, w, args.batch, args.batches)
                rates[name, w].append(rate)
                print(f'round {rep + 1}: {name:22s} workers={w}: '
                      f'{rate:7.1f} samples/s', flush=True)

    base = {w: statistics.median(rates['PNG files', w]) for w in args.workers}
    rows = []
    for name in sources:
        for w in args.workers:
            med = statistics.median(rates[name, w])
            rows.append({
                'source': name, 'workers': str(w),
                'samples/s (median)': f'{med:.1f}',
                'x PNG files': f'{med / base[w]:.2f}',
                'disk MiB': f'{disk[name] / 2**20:.1f}'})
    result = dict(args=vars(args), cpu_count=os.cpu_count(), rows=rows,
                  rates={f'{s}|{w}': r for (s, w), r in rates.items()})
    table = '\n'.join(markdown_table(list(rows[0]),
                                      [list(r.values()) for r in rows]))
    print('\n' + table)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    save_json_atomic(result, args.out + '.json')
    atomic_write_text(args.out + '.md', table + '\n')
    return result


if __name__ == '__main__':
    main()
