"""Plot of a reweighted run: per-type validation losses and loss weights.

Reads the history that ``ReweightingHook`` writes (or the replay tool's
output turned into the same form). Only matplotlib's object API is used, so
no global backend is touched.
"""
import os
import os.path as osp


def plot_history(history: dict, out_file: str) -> str:
    """Plot per-type validation losses and weights over training.

    Args:
        history (dict): As written by :class:`ReweightingHook` (keys
            ``rain_types``, ``records``, ``strategy``, ``warmup``).
        out_file (str): PNG path.

    Returns:
        str: ``out_file``.
    """
    # Figure + Agg canvas: no global matplotlib backend is touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    types = history['rain_types']
    records = history['records']
    fig = Figure(figsize=(8, 6.5), constrained_layout=True)
    FigureCanvasAgg(fig)
    ax_loss, ax_w = fig.subplots(2, 1, sharex=True)
    k = len(types)
    for i, name in enumerate(types):
        pts = [(r['iter'], r['val_l1'][i]) for r in records
               if r.get('val_l1') and r['val_l1'][i] is not None]
        if pts:
            ax_loss.plot(*zip(*pts), marker='o', ms=3, label=name)
        iters = [0] + [r['iter'] for r in records]
        ws = [1.0 / k] + [r['weights'][i] for r in records]
        ax_w.step(iters, ws, where='post', label=name)
    warm = [r['iter'] for r in records if r.get('status') == 'warmup']
    if warm:
        ax_w.axvspan(0, max(warm), color='0.9', label='warm-up')
    for r in records:
        if r.get('status') == 'skipped':
            ax_w.axvline(r['iter'], color='r', ls=':', lw=1)
    af = [(r['iter'], r['stats']['coba_af']) for r in records
          if 'coba_af' in (r.get('stats') or {})]
    if af:
        ax_af = ax_w.twinx()
        ax_af.plot(*zip(*af), 'k--', lw=1, label='AF')
        ax_af.set_ylabel('AF')
        ax_af.set_ylim(0, max(1.0, max(v for _, v in af)))
        ax_af.legend(loc='upper right', fontsize='small')
    strategy = dict(history.get('strategy') or {})
    ax_loss.set_title('per-type validation L1 and loss weights: ' + ', '.join(
        f'{key}={value}' for key, value in strategy.items()))
    ax_loss.set_ylabel('validation L1 ([0, 1] scale)')
    ax_loss.legend(fontsize='small')
    ax_w.set_ylabel('weight (sum 1)')
    ax_w.set_xlabel('training iteration')
    ax_w.legend(loc='upper left', fontsize='small')
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=110)
    return out_file
