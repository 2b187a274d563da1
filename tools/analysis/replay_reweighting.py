"""Replay a config's loss reweighting offline on logged validation losses.

Runs the settings of the config's ``ReweightingHook`` (strategy, window,
tau, warm-up, floor, floor mode, interval) through the same schedule the hook
uses during training, and prints one JSON object whose key ``weights`` is
the list of weight vectors in force after each round (warm-up rounds
included), in the config's ``rain_types`` order. Use it to tune window and
tau from a logged run without training again.

``--losses`` is either
- a JSON list of per-round per-type validation losses,
  ``[[l_DRS, l_DRD, l_NRS, l_NRD], ...]``: every entry is one validation
  round (the hook's ``interval`` decides which rounds update; ``null`` marks
  a type without a loss, which skips the round as in training), or
- a ``reweighting_history.json`` written by the hook: its records are the
  rounds that were due, replayed in order.

Examples:
    python tools/analysis/replay_reweighting.py \
        configs/unirain/unirain_all.py \
        --losses work_dirs/unirain_all/reweighting_history.json
    python tools/analysis/replay_reweighting.py \
        configs/unirain/unirain_all.py --losses losses.json \
        --cfg-options custom_hooks.1.strategy.window=5 --plot replay.png
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)
from mmengine.config import Config, DictAction  # noqa: E402

from unirain_mm.rain_types import RAIN_TYPES  # noqa: E402
from unirain_mm.reweighting import ReweightSchedule, plot_history  # noqa: E402
from unirain_mm.reweighting.strategies import to_builtin  # noqa: E402

HOOK_TYPE = 'ReweightingHook'
#: The hook's defaults, for settings a config leaves out.
HOOK_DEFAULTS = dict(strategy=dict(type='CoBa'), interval=1, warmup=20,
                     floor=0.1, floor_mode='affine')

Rounds = List[List[Optional[float]]]


def hook_settings(cfg: Config, config_path: str) -> dict:
    """The ReweightingHook entry of ``cfg.custom_hooks`` with defaults."""
    hooks = [h for h in cfg.get('custom_hooks', []) or []
             if h.get('type') == HOOK_TYPE]
    if len(hooks) != 1:
        raise SystemExit(f'{config_path}: expected one {HOOK_TYPE} in '
                         f'custom_hooks, found {len(hooks)}')
    settings = dict(HOOK_DEFAULTS)
    settings.update({k: v for k, v in hooks[0].items()
                     if k in HOOK_DEFAULTS})
    settings['strategy'] = dict(settings['strategy'])
    return settings


def read_losses(path: str,
                num_types: int) -> Tuple[Rounds, Optional[List[int]]]:
    """Rounds of per-type losses from ``path``, and their training
    iterations when they come from a hook history (whose rounds were all
    due), None for a plain per-round list."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise SystemExit(f'{path}: cannot read losses: {err}')
    from_history = isinstance(data, dict)
    if from_history:
        if not isinstance(data.get('records'), list):
            raise SystemExit(f'{path}: a history file needs a "records" '
                             'list (as ReweightingHook writes)')
        rows = [r.get('val_l1') for r in data['records']]
        iters = [r.get('iter', i + 1) for i, r in enumerate(data['records'])]
    elif isinstance(data, list):
        rows, iters = data, None
    else:
        raise SystemExit(f'{path}: expected a list of per-round losses or a '
                         'reweighting_history.json')
    for i, row in enumerate(rows):
        ok = isinstance(row, list) and len(row) == num_types and all(
            v is None or (isinstance(v, (int, float))
                          and not isinstance(v, bool)) for v in row)
        if not ok:
            raise SystemExit(f'{path}: round {i} must be a list of '
                             f'{num_types} numbers or nulls, got {row!r}')
    return rows, iters


def run_replay(settings: dict,
               rain_types: Sequence[str],
               rounds: Rounds,
               iters: Optional[Sequence[int]] = None) -> dict:
    """Apply the schedule to ``rounds``; the output object of the tool.

    ``iters`` (the rounds' training iterations) marks rounds that were all
    due (a hook history); without it the hook's interval applies.
    """
    schedule = ReweightSchedule(settings['strategy'], rain_types,
                                settings['warmup'], settings['floor'],
                                settings['floor_mode'])
    interval = settings['interval'] if iters is None else 1
    weights, status, stats, records = [], [], [], []
    for i, row in enumerate(rounds):
        if (i + 1) % interval:
            status.append('not_due')
            stats.append({})
        else:
            result = schedule.step([float('nan') if v is None else v
                                    for v in row])
            status.append(result.status)
            stats.append(to_builtin(result.stats))
            records.append(dict(round=i + 1,
                                iter=i + 1 if iters is None else iters[i],
                                val_l1=row,
                                status=result.status,
                                stats=to_builtin(result.stats),
                                weights=result.weights.tolist()))
        weights.append(schedule.weights.tolist())
    return dict(rain_types=list(rain_types), **settings, rounds=len(rounds),
                weights=weights, status=status, stats=stats,
                records=records)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument('config', help='training config')
    parser.add_argument('--losses', required=True,
                        help='JSON list of per-round per-type losses, or a '
                        'reweighting_history.json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. '
                        'custom_hooks.1.strategy.tau=2')
    parser.add_argument('--plot', help='also plot losses and weights here')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'no config at {args.config}')
    cfg = Config.fromfile(args.config, import_custom_modules=False)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    settings = hook_settings(cfg, args.config)
    rain_types = list(cfg.get('model', {}).get('rain_types', RAIN_TYPES))
    rounds, iters = read_losses(args.losses, len(rain_types))
    try:
        out = run_replay(settings, rain_types, rounds, iters)
    except (KeyError, ValueError, TypeError) as err:
        raise SystemExit(f'{args.config}: bad {HOOK_TYPE} settings: {err}')
    records = out.pop('records')
    if args.plot:
        plot_history(dict(out, records=records), args.plot)
        print(f'wrote {args.plot}', file=sys.stderr)
    print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
