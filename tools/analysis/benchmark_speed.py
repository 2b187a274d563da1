"""Inference speed and peak memory of several models, measured in one run.

For every config and input shape the restoration runs through
:class:`~unirain_mm.apis.UniRainInferencer` (what ``tools/infer.py`` runs):
inputs larger than ``--tile`` are tiled by ``tiled_forward``, with the MoE
route computed once per image. After ``--warmup`` untimed runs the median of
``--repeats`` timed runs gives images/s and ms per megapixel; each model's
ms/MP is also given as a ratio to the reference model's (Restormer) at the
same input. Weights are random: speed does not depend on them.

Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` per measurement;
on the CPU, each (model, shape) runs in a fresh process and its peak RSS
(``ru_maxrss``) is reported, so models do not contaminate each other. The
``+forward`` column subtracts the RSS (or CUDA memory) the process held once
the model was built.

Example:
    python tools/analysis/benchmark_speed.py \
        configs/unirain/unirain_all.py configs/baselines/restormer_all.py \
        configs/baselines/nafnet_all.py --shapes 256x256 512x512 1920x1080
"""
import argparse
import datetime
import os.path as osp
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import List, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
import torch  # noqa: E402

from unirain_mm.evaluation.results_table import markdown_table  # noqa: E402
from unirain_mm.fileio import atomic_write_text, save_json_atomic  # noqa: E402

DEFAULT_CONFIGS = [
    osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_all.py'),
    osp.join(REPO_ROOT, 'configs', 'baselines', 'restormer_all.py'),
    osp.join(REPO_ROOT, 'configs', 'baselines', 'nafnet_all.py'),
]


def parse_shape(text: str) -> Tuple[int, int]:
    """``'WxH'`` -> ``(H, W)``."""
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'shape must be WIDTHxHEIGHT, e.g. 1920x1080, got {text!r}')
    return h, w


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS,
                        help='model configs (default: UniRain, Restormer '
                        'and NAFNet)')
    parser.add_argument('--shapes', nargs='+', type=parse_shape,
                        default=[(256, 256), (512, 512), (1080, 1920)],
                        metavar='WxH', help='input sizes')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda')
    parser.add_argument('--dtype', default='fp32',
                        choices=['fp32', 'fp16', 'bf16'])
    parser.add_argument('--tile', type=int, default=512,
                        help='inputs larger than this are tiled')
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--tile-batch', type=int, default=4)
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed runs per measurement')
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed runs per measurement (median reported)')
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads (default: torch\'s choice)')
    parser.add_argument('--reference', default='Restormer',
                        help='generator type the ms/MP ratios refer to')
    parser.add_argument('--no-subprocess', action='store_true',
                        help='measure in this process (quicker to start; '
                        'CPU peak memory is then not reported)')
    parser.add_argument('--out', default='work_dirs/benchmark_speed/speed',
                        help='path prefix of PREFIX.json and PREFIX.md')
    args = parser.parse_args(argv)
    if args.warmup < 0 or args.repeats < 1:
        parser.error('need --warmup >= 0 and --repeats >= 1')
    return args


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB


def measure(config: str, shape: Tuple[int, int], args: dict) -> dict:
    """Time one model at one input size.

    Args:
        config (str): Model config.
        shape (tuple[int, int]): Input (H, W).
        args (dict): ``device``, ``dtype``, ``tile``, ``overlap``,
            ``tile_batch``, ``warmup``, ``repeats`` and ``threads``.

    Returns:
        dict: ``model``, ``config``, ``params``, ``height``, ``width``,
        ``tiled``, ``seconds`` (median), ``images_per_s``, ``ms_per_mp``,
        ``peak_mb`` and ``base_mb`` (memory before the first forward).
    """
    from unirain_mm.apis import UniRainInferencer

    if args['threads']:
        torch.set_num_threads(args['threads'])
    torch.manual_seed(0)
    inferencer = UniRainInferencer(
        config, device=args['device'], dtype=args['dtype'],
        tile=args['tile'], overlap=args['overlap'],
        tile_batch=args['tile_batch'])
    device = inferencer.device
    h, w = shape
    img = torch.rand(1, 3, h, w, device=device)  # no copy in the timing

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    base_mb = _peak_memory_mb(device)
    times = []
    for i in range(args['warmup'] + args['repeats']):
        sync()
        start = time.perf_counter()
        inferencer.restore(img)
        sync()
        if i >= args['warmup']:
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    generator = inferencer.generator
    return dict(
        model=type(generator).__name__,
        config=osp.splitext(osp.basename(config))[0],
        params=sum(p.numel() for p in generator.parameters()),
        height=h,
        width=w,
        tiled=max(h, w) > args['tile'],
        seconds=seconds,
        images_per_s=1 / seconds,
        ms_per_mp=seconds * 1e3 / (h * w / 1e6),
        peak_mb=_peak_memory_mb(device),
        base_mb=base_mb)


def _measure_isolated(config: str, shape: Tuple[int, int],
                      args: dict) -> dict:
    # spawn: a fresh interpreter, so ru_maxrss is this measurement's alone.
    with ProcessPoolExecutor(1, mp_context=get_context('spawn')) as pool:
        return pool.submit(measure, config, shape, args).result()


def add_ratios(rows: List[dict], reference: str) -> None:
    """Set ``ms_per_mp_ratio`` (ms/MP over the reference model's at the same
    input; None without a reference row) on every row, in place."""
    ref = {(r['height'], r['width']): r['ms_per_mp'] for r in rows
           if r['model'] == reference}
    for row in rows:
        base = ref.get((row['height'], row['width']))
        row['ms_per_mp_ratio'] = row['ms_per_mp'] / base if base else None


def format_table(rows: List[dict], reference: str) -> str:
    """The measurements as a Markdown table."""

    def num(value, fmt):
        return None if value is None else format(value, fmt)

    header = ['model', 'config', 'params (M)', 'input (WxH)', 'tiled',
              'images/s', 'ms/MP', f'ms/MP vs {reference}',
              'peak memory (MiB)', '+forward (MiB)']
    table = []
    for r in rows:
        extra = None if r['peak_mb'] is None else r['peak_mb'] - r['base_mb']
        table.append([
            r['model'], r['config'], f"{r['params'] / 1e6:.2f}",
            f"{r['width']}x{r['height']}", 'yes' if r['tiled'] else 'no',
            f"{r['images_per_s']:.3g}", f"{r['ms_per_mp']:.1f}",
            num(r['ms_per_mp_ratio'], '.3f'), num(r['peak_mb'], '.0f'),
            num(extra, '.0f')
        ])
    return '\n'.join(markdown_table(header, table)) + '\n'


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    settings = dict(device=args.device, dtype=args.dtype, tile=args.tile,
                    overlap=args.overlap, tile_batch=args.tile_batch,
                    warmup=args.warmup, repeats=args.repeats,
                    threads=args.threads)
    on_cpu = torch.device(args.device).type == 'cpu'
    isolate = on_cpu and not args.no_subprocess
    rows = []
    for config in args.configs:
        for shape in args.shapes:
            print(f'{osp.basename(config)} at {shape[1]}x{shape[0]} ...',
                  flush=True)
            row = (_measure_isolated if isolate else measure)(config, shape,
                                                              settings)
            if on_cpu and not isolate:
                row['peak_mb'] = row['base_mb'] = None  # process-wide only
            rows.append(row)
    add_ratios(rows, args.reference)
    table = format_table(rows, args.reference)
    meta = dict(
        settings,
        threads=args.threads or torch.get_num_threads(),
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        host=platform.node(),
        torch=torch.__version__,
        hardware=(platform.processor() or 'cpu') if on_cpu else
        torch.cuda.get_device_name(args.device),
        memory=('torch.cuda.max_memory_allocated' if not on_cpu else
                'peak RSS of a fresh process per row' if isolate else
                'not measured'))
    save_json_atomic(dict(meta=meta, rows=rows), args.out + '.json')
    settings_line = ', '.join(f'{k} {v}' for k, v in meta.items())
    atomic_write_text(args.out + '.md', table + '\n' + settings_line + '\n')
    print('\n' + table + '\n' + settings_line)
    print(f'Saved: {args.out}.json, {args.out}.md')
    return rows


if __name__ == '__main__':
    main()
