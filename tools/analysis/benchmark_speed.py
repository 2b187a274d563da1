"""Speed and peak memory of models and inference settings, in one run.

Each *variant* is a config with settings: allocator (``malloc=keep``, what
the tools set, or ``malloc=default``, glibc's), ``dtype`` (fp32 / bf16 /
fp16), ``channels_last`` (1 / 0; default: what the inferencer does, i.e. on
the CPU) and ``backend`` (``pytorch`` or ``onnxruntime`` with ``onnx=PATH``,
a file from ``tools/deploy/export_onnx.py --route-input``). A positional
CONFIG is a variant with the tools' defaults, named after the file.

Inference runs through :class:`~unirain_mm.apis.UniRainInferencer` (what
``tools/infer.py`` runs): inputs larger than ``--tile`` are tiled, with the
MoE route computed once per image. ``--train-step`` instead times one
optimisation step of the generator (forward, L1 loss, backward, AdamW) on a
random batch of ``--batch`` images of each shape.

Every variant lives in its own process (spawned, so its allocator setting
and its peak RSS are its own; after each run it returns freed memory to the
system, so that the processes fit in memory together, which makes every run
start as the first image of a tool run does) and the timed runs are
interleaved: repeat 1 of
every variant and shape, then repeat 2, ..., so that a slow phase of a noisy
machine hits all variants alike. The median of ``--repeats`` runs gives
ms per megapixel, and its ratio to the ``--reference`` variant at the same
shape. Peak memory: the process's peak RSS (CPU) or
``torch.cuda.max_memory_allocated`` after the first run of each shape
(shapes run smallest first); ``+forward`` subtracts what the process held
once the model was built. Weights are random: speed does not depend on them.

Example:
    U=configs/unirain/unirain_all.py
    python tools/analysis/benchmark_speed.py --variant unirain=$U \
        --variant restormer=configs/baselines/restormer_all.py \
        --variant unirain_old=$U,malloc=default,channels_last=0 \
        --reference restormer --shapes 256x256 512x512 1920x1080
"""
import argparse
import datetime
import os.path as osp
import platform
import resource
import statistics
import sys
import time
from multiprocessing import get_context
from typing import Dict, List, Optional, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
import torch  # noqa: E402

from unirain_mm.apis.inferencer import (  # noqa: E402
    DEFAULT_TILE, DEFAULT_TILE_BATCH)
from unirain_mm.evaluation.results_table import markdown_table  # noqa: E402
from unirain_mm.fileio import atomic_write_text, save_json_atomic  # noqa: E402

DEFAULT_CONFIGS = [
    osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_all.py'),
    osp.join(REPO_ROOT, 'configs', 'baselines', 'restormer_all.py'),
    osp.join(REPO_ROOT, 'configs', 'baselines', 'nafnet_all.py'),
]
#: Variant settings and their allowed values (None: any string).
VARIANT_KEYS = dict(malloc=('keep', 'default'),
                    dtype=('fp32', 'bf16', 'fp16'),
                    channels_last=('0', '1'),
                    backend=('pytorch', 'onnxruntime'),
                    onnx=None)


def parse_shape(text: str) -> Tuple[int, int]:
    """``'WxH'`` -> ``(H, W)``."""
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'shape must be WIDTHxHEIGHT, e.g. 1920x1080, got {text!r}')
    return h, w


def parse_variant(text: str) -> dict:
    """``'NAME=CONFIG[,key=value...]'`` -> a variant dict."""
    name, sep, rest = text.partition('=')
    parts = rest.split(',')
    if not sep or not name or not parts[0]:
        raise argparse.ArgumentTypeError(
            f'variant must be NAME=CONFIG[,key=value...], got {text!r}')
    variant = dict(name=name, config=parts[0], malloc='keep', dtype='fp32',
                   channels_last=None, backend='pytorch', onnx=None)
    for item in parts[1:]:
        key, _, value = item.partition('=')
        if key not in VARIANT_KEYS:
            raise argparse.ArgumentTypeError(
                f'variant {name}: unknown setting {key!r} (known: '
                f'{", ".join(VARIANT_KEYS)})')
        allowed = VARIANT_KEYS[key]
        if allowed is not None and value not in allowed:
            raise argparse.ArgumentTypeError(
                f'variant {name}: {key} must be one of {allowed}, got '
                f'{value!r}')
        variant[key] = value
    if variant['channels_last'] is not None:
        variant['channels_last'] = variant['channels_last'] == '1'
    if (variant['backend'] == 'onnxruntime') != (variant['onnx'] is not None):
        raise argparse.ArgumentTypeError(
            f'variant {name}: backend=onnxruntime and onnx=PATH go together')
    return variant


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='*',
                        help='configs run with the tools\' defaults '
                        '(default, without --variant: UniRain, Restormer '
                        'and NAFNet)')
    parser.add_argument('--variant', action='append', type=parse_variant,
                        default=[], metavar='NAME=CONFIG[,key=value...]',
                        help='a config with settings: malloc=keep|default, '
                        'dtype=fp32|bf16|fp16, channels_last=0|1, '
                        'backend=pytorch|onnxruntime, onnx=PATH')
    parser.add_argument('--shapes', nargs='+', type=parse_shape,
                        default=[(256, 256), (512, 512), (1080, 1920)],
                        metavar='WxH', help='input sizes')
    parser.add_argument('--train-step', action='store_true',
                        help='time a training step instead of inference')
    parser.add_argument('--batch', type=int, default=8,
                        help='batch of --train-step')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda')
    parser.add_argument('--tile', type=int, default=DEFAULT_TILE,
                        help='inputs larger than this are tiled')
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--tile-batch', type=int, default=DEFAULT_TILE_BATCH,
                        help='tiles per forward')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed runs per measurement')
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed runs per measurement (median reported)')
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads (default: torch\'s choice)')
    parser.add_argument('--reference',
                        help='variant the ratios refer to (default: the '
                        'one whose generator is Restormer, else the first)')
    parser.add_argument('--no-subprocess', action='store_true',
                        help='run every variant in this process (quicker '
                        'to start; ignores malloc=, no CPU peak memory)')
    parser.add_argument('--out', default='work_dirs/benchmark_speed/speed',
                        help='path prefix of PREFIX.json and PREFIX.md')
    args = parser.parse_args(argv)
    if args.warmup < 0 or args.repeats < 1 or args.batch < 1:
        parser.error('need --warmup >= 0, --repeats >= 1 and --batch >= 1')
    if not args.variant:
        args.variant = [
            parse_variant(f'{osp.splitext(osp.basename(c))[0]}={c}')
            for c in (args.configs or DEFAULT_CONFIGS)
        ]
    elif args.configs:
        parser.error('give either CONFIGs or --variant options')
    if args.train_step and any(v['backend'] != 'pytorch'
                               for v in args.variant):
        parser.error('--train-step needs the pytorch backend (an exported '
                     'model does not train)')
    names = [v['name'] for v in args.variant]
    if len(set(names)) != len(names):
        parser.error(f'variant names must be unique, got {names}')
    if args.reference is not None and args.reference not in names:
        parser.error(f'--reference {args.reference!r} is not a variant '
                     f'({", ".join(names)})')
    return args


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB


class Session:
    """One variant, built once, run on request.

    Args:
        variant (dict): From :func:`parse_variant`.
        settings (dict): ``device``, ``tile``, ``overlap``, ``tile_batch``,
            ``threads``, ``train_step`` and ``batch``.
    """

    def __init__(self, variant: dict, settings: dict) -> None:
        from unirain_mm.apis import UniRainInferencer
        if settings['threads']:
            torch.set_num_threads(settings['threads'])
        torch.manual_seed(0)
        self.train_step = settings['train_step']
        self.batch = settings['batch']
        inferencer = UniRainInferencer(
            variant['onnx'] or variant['config'],
            device=settings['device'],
            dtype=variant['dtype'],
            tile=settings['tile'],
            overlap=settings['overlap'],
            tile_batch=settings['tile_batch'],
            backend=variant['backend'],
            channels_last=variant['channels_last'])
        self.inferencer = inferencer
        self.device = torch.device(settings['device'])
        self.autocast = dict(device_type=self.device.type,
                             dtype=dict(fp32=torch.float32,
                                        bf16=torch.bfloat16,
                                        fp16=torch.float16)[variant['dtype']],
                             enabled=variant['dtype'] != 'fp32')
        generator = inferencer.generator
        self.model = type(generator).__name__
        self.params = (sum(p.numel() for p in generator.parameters())
                       if isinstance(generator, torch.nn.Module) else None)
        if self.train_step:
            generator.train()
            self.optimizer = torch.optim.AdamW(generator.parameters(), 1e-4)
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
        self.base_mb = _peak_memory_mb(self.device)

    def _sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def _step(self, shape: Tuple[int, int]) -> None:
        gen = self.inferencer.generator
        x = torch.rand(self.batch, 3, *shape, device=self.device)
        with torch.autocast(**self.autocast):
            loss = (gen(x) - x).abs().mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def run(self, shape: Tuple[int, int]) -> dict:
        """One run at ``shape`` (H, W): its seconds and the peak memory."""
        if not self.train_step:
            img = torch.rand(1, 3, *shape, device=self.device)
        self._sync()
        start = time.perf_counter()
        if self.train_step:
            self._step(shape)
        else:
            self.inferencer.restore(img)
        self._sync()
        seconds = time.perf_counter() - start
        return dict(seconds=seconds, peak_mb=_peak_memory_mb(self.device))

    def describe(self) -> dict:
        return dict(model=self.model, params=self.params,
                    base_mb=self.base_mb)


def _serve(conn, variant: dict, settings: dict) -> None:
    """A spawned worker: build the variant, then answer run requests."""
    from unirain_mm.allocator import keep_freed_memory, release_freed_memory
    if variant['malloc'] == 'keep':
        keep_freed_memory()
    try:
        session = Session(variant, settings)
        conn.send(('ok', session.describe()))
        while True:
            shape = conn.recv()
            if shape is None:
                return
            conn.send(('ok', session.run(shape)))
            # the variants' processes hold their peaks at once otherwise
            release_freed_memory()
    except Exception as err:  # reported by the parent, which exits
        conn.send(('error', f'{variant["name"]}: {type(err).__name__}: '
                   f'{err}'))


class _Remote:
    """The parent's end of a worker process (same interface as Session)."""

    def __init__(self, variant: dict, settings: dict) -> None:
        ctx = get_context('spawn')
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve,
                                 args=(child, variant, settings),
                                 daemon=True)
        self._proc.start()
        self._info = self._receive()

    def _receive(self) -> dict:
        status, payload = self._conn.recv()
        if status != 'ok':
            raise SystemExit(payload)
        return payload

    def describe(self) -> dict:
        return self._info

    def run(self, shape: Tuple[int, int]) -> dict:
        self._conn.send(shape)
        return self._receive()

    def close(self) -> None:
        self._conn.send(None)
        self._proc.join(timeout=60)


def benchmark(variants: List[dict], shapes: List[Tuple[int, int]],
              settings: dict, warmup: int, repeats: int,
              isolate: bool) -> List[dict]:
    """Time every variant at every shape, interleaved; one row per pair."""
    shapes = sorted(shapes, key=lambda s: s[0] * s[1])
    sessions = {}
    for variant in variants:
        print(f'building {variant["name"]} ...', flush=True)
        sessions[variant['name']] = (_Remote if isolate else Session)(
            variant, settings)
    times: Dict[tuple, List[float]] = {}
    peaks: Dict[tuple, float] = {}
    try:
        for i in range(warmup + repeats):
            for shape in shapes:
                for name, session in sessions.items():
                    result = session.run(shape)
                    key = (name, shape)
                    peaks.setdefault(key, result['peak_mb'])
                    if i >= warmup:
                        times.setdefault(key, []).append(result['seconds'])
                        print(f'  {name} {shape[1]}x{shape[0]} run '
                              f'{i - warmup + 1}/{repeats}: '
                              f'{result["seconds"]:.3f} s', flush=True)
    finally:
        for session in sessions.values():
            if isinstance(session, _Remote):
                session.close()
    rows = []
    batch = settings['batch'] if settings['train_step'] else 1
    for variant in variants:
        info = sessions[variant['name']].describe()
        for shape in shapes:
            key = (variant['name'], shape)
            seconds = statistics.median(times[key])
            h, w = shape
            rows.append(dict(
                variant=variant['name'],
                model=info['model'],
                config=osp.splitext(osp.basename(variant['config']))[0],
                settings={k: variant[k] for k in ('malloc', 'dtype',
                                                  'channels_last',
                                                  'backend')},
                params=info['params'],
                height=h,
                width=w,
                tiled=(not settings['train_step']
                       and max(h, w) > settings['tile']),
                seconds=seconds,
                seconds_all=times[key],
                images_per_s=batch / seconds,
                ms_per_mp=seconds * 1e3 / (batch * h * w / 1e6),
                peak_mb=peaks[key],
                base_mb=info['base_mb']))
    return rows


def add_ratios(rows: List[dict], reference: str) -> None:
    """Set ``ms_per_mp_ratio`` (ms/MP over the reference variant's at the
    same shape; None without one) on every row, in place."""
    ref = {(r['height'], r['width']): r['ms_per_mp'] for r in rows
           if r['variant'] == reference}
    for row in rows:
        base = ref.get((row['height'], row['width']))
        row['ms_per_mp_ratio'] = row['ms_per_mp'] / base if base else None


def format_table(rows: List[dict], reference: str) -> str:
    """The measurements as a Markdown table."""

    def num(value, fmt):
        return None if value is None else format(value, fmt)

    header = ['variant', 'model', 'settings', 'params (M)', 'input (WxH)',
              'tiled', 'images/s', 'ms/MP', f'ms/MP vs {reference}',
              'peak memory (MiB)', '+forward (MiB)']
    table = []
    for r in rows:
        extra = None if r['peak_mb'] is None else r['peak_mb'] - r['base_mb']
        s = r['settings']
        layout = {None: 'auto', True: 'CL', False: 'NCHW'}[s['channels_last']]
        table.append([
            r['variant'], r['model'],
            f"{s['backend']} {s['dtype']} {layout} malloc={s['malloc']}",
            num(r['params'] and r['params'] / 1e6, '.2f'),
            f"{r['width']}x{r['height']}", 'yes' if r['tiled'] else 'no',
            f"{r['images_per_s']:.3g}", f"{r['ms_per_mp']:.1f}",
            num(r['ms_per_mp_ratio'], '.3f'), num(r['peak_mb'], '.0f'),
            num(extra, '.0f')
        ])
    return '\n'.join(markdown_table(header, table)) + '\n'


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    settings = dict(device=args.device, tile=args.tile,
                    overlap=args.overlap, tile_batch=args.tile_batch,
                    threads=args.threads, train_step=args.train_step,
                    batch=args.batch)
    on_cpu = torch.device(args.device).type == 'cpu'
    isolate = not args.no_subprocess
    if not isolate and all(v['malloc'] == 'keep' for v in args.variant):
        from unirain_mm.allocator import keep_freed_memory
        keep_freed_memory()  # what the workers would do
    rows = benchmark(args.variant, args.shapes, settings, args.warmup,
                     args.repeats, isolate)
    if on_cpu and not isolate:
        for row in rows:
            row['peak_mb'] = row['base_mb'] = None  # process-wide only
    reference: Optional[str] = args.reference or next(
        (r['variant'] for r in rows if r['model'] == 'Restormer'),
        rows[0]['variant'])
    add_ratios(rows, reference)
    table = format_table(rows, reference)
    meta = dict(
        settings,
        warmup=args.warmup,
        repeats=args.repeats,
        reference=reference,
        threads=args.threads or torch.get_num_threads(),
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        host=platform.node(),
        torch=torch.__version__,
        hardware=(platform.processor() or 'cpu') if on_cpu else
        torch.cuda.get_device_name(args.device),
        memory=('torch.cuda.max_memory_allocated' if not on_cpu else
                'peak RSS of the variant\'s process' if isolate else
                'not measured'),
        command=' '.join(sys.argv))
    save_json_atomic(dict(meta=meta, rows=rows), args.out + '.json')
    settings_line = ', '.join(f'{k} {v}' for k, v in meta.items())
    atomic_write_text(args.out + '.md', table + '\n' + settings_line + '\n')
    print('\n' + table + '\n' + settings_line)
    print(f'Saved: {args.out}.json, {args.out}.md')
    return rows


if __name__ == '__main__':
    main()
