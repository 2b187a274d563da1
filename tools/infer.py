"""Derain images of any size with a trained UniRain checkpoint.

Each INPUT is an image file, a folder (its images, not recursive) or a glob.
Outputs are written atomically as ``OUT_DIR/<input name>.png``; outputs that
already exist are skipped unless ``--overwrite``, so an interrupted run can
simply be started again. The checkpoint must fit the config key by key
and shape by shape (else the error names the keys and the matching config),
and is read with the safe loader of :mod:`unirain_mm.checkpoint`.

With ``--backend onnxruntime`` the first argument is a model written by
``tools/deploy/export_onnx.py`` and there is no checkpoint; tiling and the
global route work the same way.

On start-up the tool keeps freed memory inside the process
(:mod:`unirain_mm.allocator`; ``UNIRAIN_MALLOC=default`` turns that off).

A model-zoo name stands for a config and its published weights (verified
by their hash), e.g. ``python tools/infer.py unirain-s photo.jpg --out-dir
out``.

Example:
    python tools/infer.py configs/unirain/unirain_demo_cpu.py \
        work_dirs/unirain_demo_cpu/iter_1800.pth data/demo/test/DRS/input \
        --out-dir work_dirs/derained --tile 512 --overlap 32
    python tools/infer.py --backend onnxruntime unirain_demo.onnx \
        data/demo/test/DRS/input --out-dir work_dirs/derained_ort
"""
import argparse
import glob
import os
import os.path as osp
import resource
import sys
import time
from typing import List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from unirain_mm import register_all_modules  # noqa: E402
from unirain_mm.model_zoo import is_zoo_name  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
from unirain_mm.apis.inferencer import (  # noqa: E402
    DEFAULT_TILE, DEFAULT_TILE_BATCH)

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Derain images with a UniRain-MM checkpoint (tiled)')
    parser.add_argument('model', metavar='ZOO_NAME|CONFIG|MODEL.onnx',
                        help='model-zoo name (e.g. unirain-s: config and '
                        'weights of configs/*/metafile.yml, no checkpoint '
                        'argument), model config file (pytorch backend) or '
                        'exported model (onnxruntime backend)')
    parser.add_argument('paths', nargs='+', metavar='[CHECKPOINT] INPUT',
                        help='checkpoint file (pytorch backend only), then '
                        'image files, folders or glob patterns')
    parser.add_argument('--backend', default='pytorch',
                        choices=['pytorch', 'onnxruntime'],
                        help='run the config + checkpoint with PyTorch, or '
                        'an exported .onnx model with onnxruntime')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--tile', type=int, default=DEFAULT_TILE,
                        help='tile side')
    parser.add_argument('--overlap', type=int, default=32,
                        help='overlap of neighbouring tiles')
    parser.add_argument('--tile-batch', type=int, default=DEFAULT_TILE_BATCH,
                        help='tiles per forward pass')
    parser.add_argument('--dtype', default='fp32',
                        choices=['fp32', 'fp16', 'bf16'])
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--route', default='global',
                        choices=['global', 'per_tile'],
                        help='one route for the whole image or per tile')
    parser.add_argument('--route-size', type=int, default=256,
                        help='longer side of the copy the global route sees')
    parser.add_argument('--side-by-side', action='store_true',
                        help='also write <name>_compare.png (input | output)')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo outputs that already exist')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='read the checkpoint with weights_only=False '
                        '(old files the safe loader refuses): runs any code '
                        'the file holds, for trusted files only')
    args = parser.parse_args(argv)
    args.config, args.checkpoint, args.inputs = args.model, None, args.paths
    # a zoo name brings its config and weights: every path is an input
    if args.backend == 'pytorch' and not is_zoo_name(args.model):
        if len(args.paths) < 2:
            parser.error('the pytorch backend needs CONFIG CHECKPOINT '
                         'INPUT...')
        args.checkpoint, args.inputs = args.paths[0], args.paths[1:]
    return args


def collect_inputs(specs: List[str]) -> List[str]:
    """Image paths named by files, folders and globs, in order, unique.

    Raises:
        SystemExit: An input matches no image.
    """
    paths: List[str] = []
    for spec in specs:
        if osp.isdir(spec):
            found = sorted(
                osp.join(spec, n) for n in os.listdir(spec)
                if n.lower().endswith(IMAGE_EXTS)
                and osp.isfile(osp.join(spec, n)))
        elif osp.isfile(spec):
            found = [spec]
        elif glob.has_magic(spec):
            found = sorted(p for p in glob.glob(spec) if osp.isfile(p))
        else:
            raise SystemExit(f'input not found: {spec}')
        if not found:
            raise SystemExit(f'no images in input: {spec}')
        paths.extend(found)
    return list(dict.fromkeys(paths))


def main(argv=None) -> dict:
    """Run the tool; returns counts, time per megapixel and peak memory."""
    import numpy as np
    import torch
    from tqdm import tqdm

    from unirain_mm.apis import UniRainInferencer
    from unirain_mm.apis.inferencer import read_rgb
    from unirain_mm.checkpoint import CheckpointError
    from unirain_mm.fileio import atomic_write_png

    args = parse_args(argv)
    # a zoo name is checked by the inferencer, which lists the zoo
    if not is_zoo_name(args.config) and not osp.isfile(args.config):
        raise SystemExit(f'not found: {args.config}')
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise SystemExit(f'not found: {args.checkpoint}')
    paths = collect_inputs(args.inputs)
    names = [osp.splitext(osp.basename(p))[0] for p in paths]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit('inputs share output names: ' + ', '.join(
            sorted(dup)))
    todo = [(p, osp.join(args.out_dir, n + '.png'))
            for p, n in zip(paths, names)]
    skipped = 0
    if not args.overwrite:
        pending = [(p, o) for p, o in todo if not osp.isfile(o)]
        skipped = len(todo) - len(pending)
        todo = pending
    try:
        inferencer = UniRainInferencer(
            args.config, args.checkpoint, device=args.device,
            dtype=args.dtype, tile=args.tile, overlap=args.overlap,
            routes=args.route, route_size=args.route_size,
            tile_batch=args.tile_batch, unsafe_load=args.unsafe_load,
            backend=args.backend)
    except (ValueError, CheckpointError, ImportError) as e:
        raise SystemExit(str(e))
    os.makedirs(args.out_dir, exist_ok=True)
    megapixels, seconds = 0.0, 0.0
    for path, out_path in tqdm(todo, desc='derain', unit='img'):
        try:
            rgb = read_rgb(path)
        except (FileNotFoundError, ValueError) as e:
            raise SystemExit(str(e))
        start = time.perf_counter()
        restored = inferencer(rgb)
        seconds += time.perf_counter() - start
        megapixels += rgb.shape[0] * rgb.shape[1] / 1e6
        atomic_write_png(out_path, restored)
        if args.side_by_side:
            base = osp.splitext(out_path)[0]
            atomic_write_png(base + '_compare.png',
                             np.concatenate([rgb, restored], axis=1))
    # ru_maxrss is in KiB on Linux.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = dict(written=len(todo), skipped=skipped,
                 megapixels=megapixels, seconds=seconds,
                 s_per_mp=seconds / megapixels if megapixels else 0.0,
                 peak_rss_mb=peak_rss_mb)
    msg = (f'{len(todo)} written, {skipped} skipped (exist) to '
           f'{args.out_dir}; {megapixels:.2f} MP in {seconds:.1f} s '
           f'({stats["s_per_mp"]:.2f} s/MP); peak RSS {peak_rss_mb:.0f} MiB')
    if inferencer.device.type == 'cuda':
        stats['peak_cuda_mb'] = torch.cuda.max_memory_allocated() / 2**20
        msg += f', peak CUDA {stats["peak_cuda_mb"]:.0f} MiB'
    print(msg)
    return stats


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
