"""PSNR and time of inference settings on a test split: precision, tiles.

Restores every ``<data-root>/<split>/<type>/input`` image of the demo
layout with each setting through :class:`UniRainInferencer` (the path of
``tools/infer.py``) and reports, per rain type, PSNR-Y against the target
(mmagic's ``psnr``, no border crop, as ``tools/test.py``), its difference to
the first setting, and the seconds per megapixel. A setting is a precision
(fp32, bf16, or an exported ONNX model) at a tile side (``--tiles``; 0 runs
whole images). Settings run interleaved, image by image, after one untimed
warm-up image each.

Examples:
    python tools/analysis/compare_precision.py \
        configs/unirain/unirain_demo_cpu.py \
        work_dirs/unirain_demo_cpu/iter_1800.pth --data-root data/demo \
        --onnx unirain_demo.onnx --out work_dirs/precision
    # tile sides, fp32 only, a zoo model on converted real pairs
    python tools/analysis/compare_precision.py unirain-s --dtypes fp32 \
        --tiles 256 512 0 --data-root work_dirs/realdata/data \
        --split HQ-NightRain-samples --out work_dirs/tiles
"""
import argparse
import glob
import os.path as osp
import sys
import time
from collections import defaultdict
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from unirain_mm import register_all_modules  # noqa: E402
from unirain_mm.model_zoo import is_zoo_name  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
from unirain_mm.apis.inferencer import (  # noqa: E402
    DEFAULT_TILE, DEFAULT_TILE_BATCH)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file or model-zoo name')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint (none for a zoo name)')
    parser.add_argument('--data-root', default='data/demo')
    parser.add_argument('--split', default='test')
    parser.add_argument('--onnx', help='also run this exported model '
                        '(tools/deploy/export_onnx.py --route-input)')
    parser.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'],
                        choices=['fp32', 'bf16'])
    parser.add_argument('--tiles', nargs='+', type=int,
                        default=[DEFAULT_TILE],
                        help='tile sides to compare; 0: whole images')
    parser.add_argument('--out', default='work_dirs/precision/precision',
                        help='path prefix of PREFIX.json and PREFIX.md')
    args = parser.parse_args(argv)
    if args.checkpoint is None and not is_zoo_name(args.config):
        parser.error('a config file needs a checkpoint (only a zoo name '
                     'brings its own weights)')
    if any(t < 0 for t in args.tiles):
        parser.error(f'--tiles must be >= 0, got {args.tiles}')
    args.tiles = list(dict.fromkeys(args.tiles))
    args.dtypes = list(dict.fromkeys(args.dtypes))
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the comparison; returns, per setting (and ``'input'``), the mean
    PSNR-Y per rain type, their average, the largest difference to the
    first setting, the seconds per megapixel and the tile side."""
    import numpy as np
    from mmagic.evaluation.metrics.psnr import psnr

    from unirain_mm.apis import UniRainInferencer
    from unirain_mm.apis.inferencer import read_rgb
    from unirain_mm.datasets.pairs import IMG_EXTENSIONS
    from unirain_mm.evaluation.results_table import markdown_table
    from unirain_mm.fileio import atomic_write_text, save_json_atomic
    from unirain_mm.rain_types import RAIN_TYPES

    args = parse_args(argv)
    settings, tiles = {}, {}
    for tile in args.tiles:
        # 0: a tile larger than any image, which runs it whole with its
        # own route, as tools/test.py does
        common = dict(tile=tile or 1 << 30, tile_batch=DEFAULT_TILE_BATCH)
        if tile == 0:
            common['route_size'] = 1 << 30
        suffix = '' if len(args.tiles) == 1 else \
            f' tile {tile}' if tile else ' whole'
        names = [dtype + suffix for dtype in args.dtypes]
        for name, dtype in zip(names, args.dtypes):
            settings[name] = UniRainInferencer(
                args.config, args.checkpoint, dtype=dtype, **common)
        if args.onnx:
            names.append('onnxruntime' + suffix)
            settings[names[-1]] = UniRainInferencer(
                args.onnx, backend='onnxruntime', **common)
        tiles.update(dict.fromkeys(names, tile))
    warm = np.zeros((64, 64, 3), np.uint8)
    for inferencer in settings.values():  # first-call set-up, untimed
        inferencer(warm)
    psnrs = defaultdict(list)
    seconds, megapixels = defaultdict(float), 0.0
    found = 0
    for code in RAIN_TYPES:
        inputs = sorted(
            p for p in glob.glob(osp.join(args.data_root, args.split, code,
                                          'input', '*'))
            if p.lower().endswith(IMG_EXTENSIONS))
        for path in inputs:
            target = read_rgb(path.replace(f'{osp.sep}input{osp.sep}',
                                           f'{osp.sep}target{osp.sep}'))
            rainy = read_rgb(path)
            megapixels += rainy.shape[0] * rainy.shape[1] / 1e6
            psnrs[('input', code)].append(psnr(rainy, target,
                                               convert_to='Y'))
            for name, inferencer in settings.items():
                start = time.perf_counter()
                out = inferencer(rainy)
                seconds[name] += time.perf_counter() - start
                psnrs[(name, code)].append(psnr(out, target, convert_to='Y'))
            found += 1
    if not found:
        raise SystemExit(f'no images under {args.data_root}/{args.split}/'
                         '<type>/input')
    rows, result = [], {}
    for name in ['input'] + list(settings):
        means = {c: sum(psnrs[(name, c)]) / len(psnrs[(name, c)])
                 for c in RAIN_TYPES if psnrs[(name, c)]}
        avg = sum(means.values()) / len(means)
        ref = result.get(next(iter(settings)))
        delta = (max(abs(v - ref['psnr_y'][c]) for c, v in means.items())
                 if ref and name != 'input' else None)
        result[name] = dict(psnr_y=means, avg=avg, max_abs_delta=delta,
                            s_per_mp=(seconds[name] / megapixels
                                      if name != 'input' else None),
                            tile=tiles.get(name))
        rows.append([name] + [f'{means[c]:.3f}' for c in means] +
                    [f'{avg:.3f}',
                     '' if delta is None else f'{delta:.3f}',
                     '' if name == 'input' else
                     f'{seconds[name] / megapixels:.2f}'])
    header = ['setting'] + [c for c in RAIN_TYPES if psnrs[('input', c)]] + [
        'Avg', f'max \\|PSNR-Y - {next(iter(settings))}\\| (dB)', 's/MP'
    ]
    table = '\n'.join(markdown_table(header, rows)) + '\n'
    save_json_atomic(result, args.out + '.json')
    atomic_write_text(args.out + '.md', table)
    print(table)
    print(f'{found} images; saved {args.out}.json, {args.out}.md')
    return result


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
