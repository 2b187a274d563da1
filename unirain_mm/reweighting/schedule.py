"""The round-by-round reweighting schedule shared by the training hook and the
offline replay tool.

``ReweightingHook`` measures per-type validation losses during training and
hands each due round to :meth:`ReweightSchedule.step`;
``tools/analysis/replay_reweighting.py`` hands it the losses of a logged run.
Both therefore apply the same weights to the same losses, bit for bit. This
module imports neither torch nor mmagic.
"""
from typing import NamedTuple, Optional, Sequence

import numpy as np

from .strategies import Stats, build_strategy, to_builtin

FLOOR_MODES = ('affine', 'lift')


def apply_floor(weights: np.ndarray, floor: float,
                mode: str = 'affine') -> np.ndarray:
    """Keep every weight at least ``floor``, the sum at 1.

    Args:
        weights (np.ndarray): Weights summing to 1, shape (K,).
        floor (float): Minimum weight, ``0 <= floor <= 1 / K``.
        mode (str): ``'affine'``: always ``floor + (1 - K floor) w``, as the
            authors' code does (uniform weights stay uniform, the rest is
            compressed towards them); ``'lift'``: the same map, applied only
            when some weight is below ``floor`` (ours: weights already above
            the floor pass unchanged).

    Returns:
        np.ndarray: Weights, shape (K,).
    """
    if mode not in FLOOR_MODES:
        raise ValueError(f'floor mode must be one of {FLOOR_MODES}, got '
                         f'{mode!r}')
    if mode == 'lift' and weights.min() >= floor:
        return weights
    return floor + (1.0 - weights.size * floor) * weights


class RoundResult(NamedTuple):
    """The outcome of one due round.

    ``weights`` are those in force after the round (unchanged when
    ``status`` is ``'skipped'``), ``reason`` says why a round was skipped.
    """
    weights: np.ndarray
    status: str  # 'warmup', 'update' or 'skipped'
    stats: Stats
    reason: Optional[str] = None


class ReweightSchedule:
    """Warm-up, strategy and floor, applied to one due round at a time.

    Round ``r`` (counted from 0 over the due rounds, skipped ones included,
    as the authors count epochs):

    - a round whose losses are missing (NaN), infinite or not positive is
      skipped: nothing is recorded and the weights stay;
    - ``r < warmup``: the strategy only observes the losses
      (:meth:`~.strategies.ReweightStrategy.observe`), the weights are 1/K;
    - otherwise the strategy's weights, floored by :func:`apply_floor`.

    Args:
        strategy (dict): Strategy config, e.g. ``dict(type='CoBa')``.
        rain_types (Sequence[str]): Names of the K types, in loss order.
        warmup (int): Number of first rounds with uniform weights.
        floor (float): Minimum weight, ``0 <= floor <= 1 / K``.
        floor_mode (str): ``'affine'`` (the authors') or ``'lift'``.
    """

    def __init__(self,
                 strategy: dict,
                 rain_types: Sequence[str],
                 warmup: int = 20,
                 floor: float = 0.1,
                 floor_mode: str = 'affine') -> None:
        k = len(rain_types)
        if warmup < 0 or floor < 0:
            raise ValueError('reweighting warmup and floor must be >= 0, got '
                             f'{warmup} and {floor}')
        if floor * k > 1:
            raise ValueError(f'reweighting floor {floor} is above 1/K for '
                             f'{k} types')
        if floor_mode not in FLOOR_MODES:
            raise ValueError(f'reweighting floor_mode must be one of '
                             f'{FLOOR_MODES}, got {floor_mode!r}')
        self.strategy_cfg = dict(strategy)
        self.rain_types = tuple(rain_types)
        self.warmup = warmup
        self.floor = float(floor)
        self.floor_mode = floor_mode
        self.strategy = build_strategy(self.strategy_cfg, k)
        self.round = 0  # due rounds seen, skipped ones included
        self.weights = np.full(k, 1.0 / k)

    def invalid(self, losses: np.ndarray) -> Optional[str]:
        """Why a round's losses cannot update the weights, or None."""
        names = np.asarray(self.rain_types)
        if losses.shape != (len(names), ):
            return (f'{losses.size} losses for the {len(names)} types '
                    f'{list(names)}')
        if np.isnan(losses).any():
            return f'no validation loss of {list(names[np.isnan(losses)])}'
        if not np.isfinite(losses).all():
            bad = names[~np.isfinite(losses)]
            return f'non-finite validation loss of {list(bad)}'
        if (losses <= 0).any():
            return f'zero validation loss of {list(names[losses <= 0])}'
        return None

    def step(self, losses: Sequence[float]) -> RoundResult:
        """Apply one due round.

        Args:
            losses (Sequence[float]): Per-type validation losses, (K,); NaN
                where a type had no image.

        Returns:
            RoundResult: The weights in force afterwards and the status.
        """
        losses = np.asarray(losses, np.float64).reshape(-1)
        index, self.round = self.round, self.round + 1
        reason = self.invalid(losses)
        if reason is not None:
            return RoundResult(self.weights, 'skipped', {}, reason)
        if index < self.warmup:
            self.strategy.observe(losses)
            k = len(self.rain_types)
            self.weights = np.full(k, 1.0 / k)
            return RoundResult(self.weights, 'warmup', {})
        raw = self.strategy.update(losses)
        if not np.isfinite(raw).all():
            return RoundResult(
                self.weights, 'skipped', {},
                f'{self.strategy_cfg["type"]} returned {raw.tolist()}')
        self.weights = apply_floor(raw, self.floor, self.floor_mode)
        return RoundResult(self.weights, 'update', dict(self.strategy.stats))

    def state_dict(self) -> dict:
        """Everything needed to continue exactly (JSON-serialisable)."""
        return dict(strategy_type=self.strategy_cfg['type'],
                    strategy=self.strategy.state_dict(),
                    round=self.round,
                    weights=to_builtin(self.weights))

    def load_state_dict(self, state: dict) -> None:
        if state.get('strategy_type') != self.strategy_cfg['type']:
            raise ValueError(
                f'the checkpoint was trained with '
                f'{state.get("strategy_type")} reweighting, the config asks '
                f'for {self.strategy_cfg}')
        self.strategy.load_state_dict(state['strategy'])
        self.round = int(state['round'])
        self.weights = np.asarray(state['weights'], np.float64)
