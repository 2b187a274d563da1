"""Forward time of the Hard-MoE decoder at top-k versus all experts active.

Builds the generator of a config twice with the same weights, once with its
``top_k`` and once with ``top_k = num_experts``, and times (interleaved, to
share the machine's noise) the forward of the whole network, of the decoder
levels and of the Hard-MoE layers alone (summed over layers, measured with
forward hooks).

Example:
    python tools/analysis/benchmark_moe.py configs/unirain/unirain_all.py \
        --batch 4 --shape 256 256 --repeats 3
"""
import argparse
import copy
import json
import os.path as osp
import sys
import time
from collections import defaultdict

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
import torch  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from unirain_mm.models.editors.unirain import HardMoE  # noqa: E402

DECODER_STAGES = ('dec3', 'dec2', 'dec1')


class _Timer:
    """Accumulates wall time of module forwards through hooks."""

    def __init__(self, modules: dict) -> None:
        self.totals = defaultdict(float)
        self._starts = {}
        for name, module in modules.items():
            module.register_forward_pre_hook(
                lambda m, i, n=name: self._starts.__setitem__(
                    n, time.perf_counter()))
            module.register_forward_hook(
                lambda m, i, o, n=name: self.totals.__setitem__(
                    n, self.totals[n] + time.perf_counter() - self._starts[n]))


def _instrument(net: torch.nn.Module) -> _Timer:
    modules = {f'hard_moe_{i}': m for i, m in enumerate(
        m for m in net.modules() if isinstance(m, HardMoE))}
    modules.update({f'{stage}_block{i}': block for stage in DECODER_STAGES
                    for i, block in enumerate(getattr(net, stage))})
    return _Timer(modules)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--out', help='write the figures as JSON here')
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    gen_cfg = copy.deepcopy(cfg.model.generator)
    sparse = MODELS.build(gen_cfg).eval()
    gen_cfg['top_k'] = gen_cfg.get('num_experts', 3)
    dense = MODELS.build(gen_cfg).eval()
    dense.load_state_dict(sparse.state_dict())
    timers = {'sparse': _instrument(sparse), 'dense': _instrument(dense)}
    nets = {'sparse': sparse, 'dense': dense}
    whole = defaultdict(float)
    torch.manual_seed(0)
    x = torch.rand(args.batch, 3, *args.shape)
    with torch.no_grad():
        for net in nets.values():  # warm-up
            net(x)
        for timer in timers.values():
            timer.totals.clear()
        for _ in range(args.repeats):
            for name, net in nets.items():
                start = time.perf_counter()
                net(x)
                whole[name] += time.perf_counter() - start

    def part(name, keys):
        return sum(v for k, v in timers[name].totals.items() if keys(k))

    rows = {}
    for label, keys in (
        ('Hard-MoE layers', lambda k: k.startswith('hard_moe')),
        ('decoder levels (attention + FFN/MoE)',
         lambda k: k.split('_')[0] in DECODER_STAGES),
    ):
        s, d = part('sparse', keys), part('dense', keys)
        rows[label] = (s / args.repeats, d / args.repeats, s / d)
    rows['whole network'] = (whole['sparse'] / args.repeats,
                             whole['dense'] / args.repeats,
                             whole['sparse'] / whole['dense'])
    k, n = cfg.model.generator.get('top_k', 1), gen_cfg['top_k']
    print(f'batch {args.batch} x 3 x {args.shape[0]} x {args.shape[1]}, '
          f'{args.repeats} repeats, {torch.get_num_threads()} threads')
    print(f'| part | top-{k} (s) | all {n} experts (s) | ratio |')
    print('|---|---|---|---|')
    for label, (s, d, r) in rows.items():
        print(f'| {label} | {s:.3f} | {d:.3f} | {r:.3f} |')
    result = {label: dict(topk_s=s, all_s=d, ratio=r)
              for label, (s, d, r) in rows.items()}
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
