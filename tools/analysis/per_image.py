"""Per-image gain, brightness bias and route of a model on a test split.

A mean PSNR over eight images hides what happens to each: one heavy-rain
image can carry a type's mean while light-rain images lose, and two rain
types can share their experts. For every ``<data-root>/<split>/<type>/input``
image this tool restores the whole image (one forward, its own route, as
``tools/test.py`` runs it) and reports:

* PSNR-Y of the input and of the output against the target (mmagic's
  ``psnr``, no border crop) and the gain;
* the bias: mean BT.601 luma (0..255) of the input and of the output minus
  that of the target; a leftover veil is positive, over-darkening negative;
* the route: for each MoE layer, the expert with the highest router
  probability, as one digit per layer (encoder layers first).

It writes ``PREFIX.json`` and ``PREFIX.md`` and prints the table, then a
line per type with the mean gain and how many images share each route.

Examples:
    python tools/analysis/per_image.py configs/unirain/unirain_demo_cpu.py \
        work_dirs/unirain_demo_cpu/iter_1800.pth --out work_dirs/per_image
    python tools/analysis/per_image.py unirain-s --types DRD \
        --data-root work_dirs/realdata/data --split RainDrop-samples
"""
import argparse
import os.path as osp
import sys
from collections import Counter
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from unirain_mm import register_all_modules  # noqa: E402
from unirain_mm.model_zoo import is_zoo_name  # noqa: E402
from unirain_mm.rain_types import RAIN_TYPES  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file or model-zoo name')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint (none for a zoo name)')
    parser.add_argument('--data-root', default='data/demo')
    parser.add_argument('--split', default='test')
    parser.add_argument('--types', nargs='+', default=list(RAIN_TYPES),
                        choices=list(RAIN_TYPES))
    parser.add_argument('--out', default='work_dirs/per_image/per_image',
                        help='path prefix of PREFIX.json and PREFIX.md')
    args = parser.parse_args(argv)
    if args.checkpoint is None and not is_zoo_name(args.config):
        parser.error('a config file needs a checkpoint (only a zoo name '
                     'brings its own weights)')
    return args


def main(argv: Optional[List[str]] = None) -> List[dict]:
    """Run the analysis; returns one record per image (``type``, ``name``,
    ``input_psnr_y``, ``psnr_y``, ``gain``, ``input_bias``, ``bias``,
    ``route``)."""
    import mmcv
    import numpy as np
    import torch
    from mmagic.evaluation.metrics.psnr import psnr

    from unirain_mm.apis import UniRainInferencer
    from unirain_mm.apis.inferencer import read_rgb
    from unirain_mm.datasets.pairs import records_from_layout
    from unirain_mm.evaluation.results_table import markdown_table
    from unirain_mm.fileio import atomic_write_text, save_json_atomic

    args = parse_args(argv)
    try:
        pairs = records_from_layout(args.data_root, args.split, args.types)
    except FileNotFoundError as err:
        raise SystemExit(f'per_image.py: {err}') from None
    whole = 1 << 30  # a tile and route size larger than any image
    inferencer = UniRainInferencer(args.config, args.checkpoint, tile=whole,
                                   route_size=whole)
    generator = inferencer.model.generator

    def luma(img: np.ndarray) -> np.ndarray:
        return mmcv.rgb2ycbcr(img.astype(np.float32) / 255.0,
                              y_only=True) * 255.0

    def route(img: np.ndarray) -> str:
        if not hasattr(generator, 'compute_routes'):
            return ''
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            probs = generator.compute_routes(x.to(inferencer.device))
        return ''.join(str(int(p[0].argmax())) for p in probs)

    records = []
    for pair in pairs:
        rainy = read_rgb(pair.input_path)
        target = read_rgb(pair.target_path)
        out = inferencer(rainy)
        ref = float(luma(target).mean())
        before = psnr(rainy, target, convert_to='Y')
        after = psnr(out, target, convert_to='Y')
        records.append(dict(
            type=pair.rain_type, name=osp.basename(pair.input_path),
            input_psnr_y=before, psnr_y=after, gain=after - before,
            input_bias=float(luma(rainy).mean()) - ref,
            bias=float(luma(out).mean()) - ref, route=route(rainy)))
    header = ['type', 'image', 'input PSNR-Y', 'PSNR-Y', 'gain (dB)',
              'input bias', 'bias', 'route']
    rows = [[r['type'], r['name'], f"{r['input_psnr_y']:.2f}",
             f"{r['psnr_y']:.2f}", f"{r['gain']:+.2f}",
             f"{r['input_bias']:+.1f}", f"{r['bias']:+.1f}", r['route']]
            for r in records]
    table = '\n'.join(markdown_table(header, rows)) + '\n'
    save_json_atomic(records, args.out + '.json')
    atomic_write_text(args.out + '.md', table)
    print(table)
    for code in args.types:
        mine = [r for r in records if r['type'] == code]
        if mine:
            gain = np.mean([r['gain'] for r in mine])
            routes = Counter(r['route'] for r in mine).most_common()
            print(f'{code}: mean gain {gain:+.2f} dB, routes ' +
                  ', '.join(f'{k or "-"} x{n}' for k, n in routes))
    print(f'{len(records)} images; saved {args.out}.json, {args.out}.md')
    return records


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
