"""Per-type loss-weight strategies driven by validation losses.

A strategy sees one vector of per-type validation losses per update (one
update per validation round, see :class:`ReweightingHook`) and returns the
per-type loss weights, shape (K,), non-negative and summing to 1. The hook
adds what is common to all strategies: uniform weights during a warm-up and
a weight floor (:func:`apply_floor`).

Strategies (``type`` in the hook's ``strategy`` config):

- ``Uniform``: fixed weights 1/K (the ablation baseline).
- ``CoBa``: UniRain's multi-objective reweighting (METHOD.md section 3, after
  CoBa, Gong et al. 2024), variants ``paper`` and ``official``.
- ``DWA``: Dynamic Weight Average (Liu et al., CVPR 2019).
- ``FAMO``: Fast Adaptive Multitask Optimization (Liu et al., NeurIPS 2023),
  adapted to validation losses at the update cadence.

All arithmetic is float64 numpy, so that every rank (given the same losses)
and a resumed run (given the saved state) compute bit-identical weights.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

import numpy as np
import torch
from mmengine.dist import all_gather_object

Stats = Dict[str, Union[float, np.ndarray]]

#: name -> strategy class; extend with :func:`register_strategy`.
REWEIGHT_STRATEGIES: Dict[str, Type['ReweightStrategy']] = {}


def register_strategy(name: Optional[str] = None) -> Callable:
    """Class decorator adding a strategy to :data:`REWEIGHT_STRATEGIES`."""

    def _register(cls: Type['ReweightStrategy']) -> Type['ReweightStrategy']:
        key = name or cls.__name__
        if key in REWEIGHT_STRATEGIES:
            raise KeyError(f'reweighting strategy {key!r} is already '
                           'registered')
        REWEIGHT_STRATEGIES[key] = cls
        return cls

    return _register


def build_strategy(cfg: dict, num_types: int) -> 'ReweightStrategy':
    """Build a strategy from ``dict(type=<name>, **kwargs)`` for K types."""
    cfg = dict(cfg)
    name = cfg.pop('type')
    if name not in REWEIGHT_STRATEGIES:
        raise KeyError(f'unknown reweighting strategy {name!r}; registered: '
                       f'{sorted(REWEIGHT_STRATEGIES)}')
    return REWEIGHT_STRATEGIES[name](num_types=num_types, **cfg)


def softmax(x: np.ndarray) -> np.ndarray:
    """Numerically stable softmax of a 1-D array."""
    e = np.exp(x - np.max(x))
    return e / e.sum()


def safe_div(num: Union[float, np.ndarray],
             den: Union[float, np.ndarray]) -> np.ndarray:
    """``num / den`` with ``x / 0 := 0``.

    Normalised slopes of flat curves are 0/0; treating them as 0 makes a flat
    curve neutral (logit 0) instead of NaN.
    """
    num, den = np.broadcast_arrays(np.asarray(num, np.float64),
                                   np.asarray(den, np.float64))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def lstsq_slope(y: Sequence[float]) -> float:
    """Least-squares slope of ``y`` against 0, 1, ..., n-1 (n >= 2)."""
    y = np.asarray(y, np.float64)
    if y.size < 2:
        raise ValueError('a slope needs at least two points')
    x = np.arange(y.size, dtype=np.float64)
    x -= x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


def apply_floor(weights: np.ndarray, floor: float) -> np.ndarray:
    """Lift every weight to at least ``floor``, keeping the sum at 1.

    If some weight is below ``floor``, the weights are mapped to
    ``floor + (1 - K * floor) * w``; otherwise they are returned unchanged
    (our choice of what "floored at 0.1" means: an affine lift, applied only
    when needed, so that the result is still a distribution).

    Args:
        weights (np.ndarray): Weights summing to 1, shape (K,).
        floor (float): Minimum weight, ``0 <= floor <= 1 / K``.

    Returns:
        np.ndarray: Weights, shape (K,).
    """
    if weights.min() >= floor:
        return weights
    return floor + (1.0 - weights.size * floor) * weights


def reduce_type_losses(records: Dict[Tuple[int, str], float],
                       num_types: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per-type mean of per-image losses, identical on every rank.

    The records of all ranks are gathered (``mmengine.dist``, a no-op in a
    single process) and merged by key, so images that DDP's sampler repeats
    to pad its shards are counted once, as the metrics do. Sums run in a
    fixed (sorted-key) order, so every rank gets bit-identical means.

    Args:
        records (dict): ``(type_id, image_key) -> loss`` of this rank.
        num_types (int): K.

    Returns:
        tuple[np.ndarray, np.ndarray]: Means (NaN where a type has no
        image) and counts, both shape (K,).
    """
    merged: Dict[Tuple[int, str], float] = {}
    for part in all_gather_object(records):
        merged.update(part)
    sums = np.zeros(num_types)
    counts = np.zeros(num_types)
    for (type_id, _), value in sorted(merged.items()):
        sums[type_id] += value
        counts[type_id] += 1
    means = np.full(num_types, np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means, counts


class ReweightStrategy:
    """Maps the sequence of per-type validation losses to loss weights.

    Subclasses implement :meth:`update` and name in ``state_keys`` the
    attributes that make up their state (lists or numbers, saved to
    checkpoints as plain Python values).

    Args:
        num_types (int): K, the number of loss terms.
    """

    state_keys: Tuple[str, ...] = ()

    def __init__(self, num_types: int) -> None:
        if num_types < 1:
            raise ValueError(f'num_types must be positive, got {num_types}')
        self.num_types = num_types
        #: Diagnostics of the last update, e.g. ``{'coba_af': 0.3}``; arrays
        #: have shape (K,).
        self.stats: Stats = {}

    @property
    def uniform(self) -> np.ndarray:
        return np.full(self.num_types, 1.0 / self.num_types)

    def update(self, losses: np.ndarray) -> np.ndarray:
        """Record one round of losses and return the new weights.

        Args:
            losses (np.ndarray): Per-type validation losses, finite and
                positive, shape (K,).

        Returns:
            np.ndarray: Weights, non-negative, summing to 1, shape (K,).
        """
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {k: to_builtin(getattr(self, k)) for k in self.state_keys}

    def load_state_dict(self, state: dict) -> None:
        for key in self.state_keys:
            setattr(self, key, _restore(getattr(self, key), state[key]))


def to_builtin(value):
    """Arrays (also inside lists and dicts) as lists, for JSON and pickle."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [to_builtin(v) for v in value]
    if isinstance(value, dict):
        return {k: to_builtin(v) for k, v in value.items()}
    return value


def _restore(template, value):
    """Undo :func:`to_builtin`, shaped like the fresh attribute."""
    if isinstance(template, list):  # a history: list of rows or numbers
        return [np.asarray(v, np.float64) if isinstance(v, list) else v
                for v in value]
    if isinstance(value, list):
        return np.asarray(value, np.float64)
    return value


@register_strategy()
class Uniform(ReweightStrategy):
    """Fixed uniform weights 1/K (the baseline of the ablation)."""

    def update(self, losses: np.ndarray) -> np.ndarray:
        return self.uniform


@register_strategy()
class CoBa(ReweightStrategy):
    """UniRain's multi-objective reweighting (METHOD.md section 3, CoBa).

    Notation: ``l_i(s)`` is the validation loss of type ``i`` at record
    ``s = 1..T`` (one record per update), ``K`` the number of types, ``N``
    the window. The curve fitted is ``y_i(s) = l_i(s) / l_i(1)`` (variant
    ``paper``) or ``y_i(s) = l_i(s)`` (variant ``official``).

    From the second record on, each update ``t = T - 1 = 1, 2, ...`` adds one
    slope record:

    - ``a_i(t)``: least-squares slope of ``y_i`` over the last
      ``min(N, T)`` records, against 0, 1, ... (per record);
    - ``a_max(t)``: the same slope of the worst curve
      ``m(s) = max_i y_i(s)`` (element-wise maximum over types).

    Then, with ``S_t`` the last ``n_t = min(N, t)`` slope records and
    ``x / 0 := 0`` (a flat curve is neutral, never NaN):

    - ``TBS_i = softmax_i(K * a_i(t) / sum_j |a_j(t)|)`` (balance: slower
      types get more weight);
    - ``TSS_i = softmax_i(-n_t * a_i(t) / sum_{s in S_t} |a_i(s)|)``
      (stability: a type that starts to diverge is pushed down);
    - ``AF`` (adaptivity), ``paper``::

          v_s = -tau * t * a_max(s) / sum_{r<=t} |a_max(r)|,  s = 1..t
          AF  = min(t * softmax(v)_t, 1)

      ``official``: a softmax over the window only, no ``t *`` and no
      clipping::

          v_s = -tau * n_t * a_max(s) / sum_{r in S_t} |a_max(r)|, s in S_t
          AF  = softmax(v)_last

    - ``paper``: ``w = AF * TBS + (1 - AF) * TSS``;
      ``official``: ``w = softmax(K * (AF * TBS + (1 - AF) * TSS))`` (the
      extra sharpening softmax).

    With fewer than two records the weights are uniform and no stats are
    produced.

    Choices where METHOD.md is open (ours): slopes are recorded from the
    second record on, during the hook's warm-up too, and ``t`` counts slope
    records (so ``TSS`` and ``AF`` have a history when the warm-up ends);
    ``TSS`` and ``AF`` scale by ``n_t`` (the records actually summed) rather
    than ``N`` while fewer than ``N`` exist; the paper's ``AF`` normalises
    all ``v_s`` by the current sum (``softmax_t`` read as a softmax over the
    history); the official ``AF`` is read as the last entry of a softmax over
    the window, temperature ``tau`` multiplying as in the paper. Public CoBa
    re-implementations instead use ``t * softmax(v)_t`` unclipped over the
    whole history (AF may exceed 1; the sharpening softmax then keeps ``w`` a
    distribution); that reading is not implemented. The sharpening factor
    ``K`` is ours.

    Args:
        num_types (int): K.
        variant (str): ``'paper'`` or ``'official'``.
        window (int): N, records per slope fit and slope records per
            ``TSS``/official ``AF``.
        tau (float): Temperature of ``AF``.
    """

    VARIANTS = ('paper', 'official')
    state_keys = ('losses', 'slopes', 'max_slopes')

    def __init__(self,
                 num_types: int,
                 variant: str = 'official',
                 window: int = 10,
                 tau: float = 5.0) -> None:
        super().__init__(num_types)
        if variant not in self.VARIANTS:
            raise ValueError(f'CoBa variant must be one of {self.VARIANTS}, '
                             f'got {variant!r}')
        if window < 2:
            raise ValueError(f'CoBa window must be >= 2, got {window}')
        self.variant = variant
        self.window = window
        self.tau = float(tau)
        self.losses: List[np.ndarray] = []  # l(s), (K,) each
        self.slopes: List[np.ndarray] = []  # a(t), (K,) each
        self.max_slopes: List[float] = []  # a_max(t)

    def update(self, losses: np.ndarray) -> np.ndarray:
        self.losses.append(np.asarray(losses, np.float64))
        if len(self.losses) < 2:
            self.stats = {}
            return self.uniform
        curves = np.stack(self.losses[-self.window:])  # (n, K)
        if self.variant == 'paper':
            curves = curves / self.losses[0]
        slopes = np.array([lstsq_slope(c) for c in curves.T])
        self.slopes.append(slopes)
        self.max_slopes.append(lstsq_slope(curves.max(axis=1)))

        k = self.num_types
        tbs = softmax(k * safe_div(slopes, np.abs(slopes).sum()))
        recent = np.stack(self.slopes[-self.window:])  # (n_t, K)
        n_t = len(recent)
        tss = softmax(-n_t * safe_div(slopes, np.abs(recent).sum(axis=0)))
        af = self._adaptivity()
        weights = af * tbs + (1.0 - af) * tss
        if self.variant == 'official':
            weights = softmax(k * weights)
        self.stats = dict(coba_tbs=tbs, coba_tss=tss, coba_af=af)
        return weights

    def _adaptivity(self) -> float:
        t = len(self.max_slopes)
        if self.variant == 'paper':
            hist = np.asarray(self.max_slopes)
            v = -self.tau * t * safe_div(hist, np.abs(hist).sum())
            return float(min(t * softmax(v)[-1], 1.0))
        hist = np.asarray(self.max_slopes[-self.window:])
        v = -self.tau * hist.size * safe_div(hist, np.abs(hist).sum())
        return float(softmax(v)[-1])


@register_strategy()
class DWA(ReweightStrategy):
    """Dynamic Weight Average (Liu, Johns and Davison, CVPR 2019).

    ``r_i = l_i(T) / l_i(T-1)`` from the last two validation records and
    ``w_i = K exp(r_i / T) / sum_j exp(r_j / T)``, normalised here to
    ``softmax(r / T)`` (sum 1). Uniform until two records exist. The paper
    uses epoch-averaged training losses; here they are the validation losses
    of consecutive updates.

    Args:
        num_types (int): K.
        temperature (float): T (2 in the paper).
    """

    state_keys = ('prev', )

    def __init__(self, num_types: int, temperature: float = 2.0) -> None:
        super().__init__(num_types)
        if temperature <= 0:
            raise ValueError('DWA temperature must be positive')
        self.temperature = float(temperature)
        self.prev: Optional[np.ndarray] = None

    def update(self, losses: np.ndarray) -> np.ndarray:
        losses = np.asarray(losses, np.float64)
        prev, self.prev = self.prev, losses
        if prev is None:
            self.stats = {}
            return self.uniform
        ratio = losses / prev
        self.stats = dict(dwa_ratio=ratio)
        return softmax(ratio / self.temperature)


@register_strategy()
class FAMO(ReweightStrategy):
    """Fast Adaptive Multitask Optimization (Liu et al., NeurIPS 2023).

    FAMO keeps task logits ``xi`` (K,), ``z = softmax(xi)``, and minimises
    ``sum_i z_i log l_i``, whose gradient is that of ``sum_i w_i l_i`` with
    ``w_i ~ z_i / l_i``. After each step it moves ``xi`` against the tasks
    that improved most::

        delta = log l(T-1) - log l(T)                  (K,)
        g     = (diag(z) - z z^T) delta + gamma * xi   (softmax Jacobian)
        xi   <- Adam step on g with learning rate lr

    Adaptation to this weight interface (ours): ``l`` is the per-type
    validation loss at the update cadence (FAMO uses every batch's training
    losses), the loss it weights is the model's linear weighted L1, so the
    weights are ``w = (z / l(T)) / sum_j (z_j / l_j(T))``, and ``xi`` is
    stepped with Adam (betas 0.9/0.999, eps 1e-8), as in the authors' code,
    with ``gamma`` as L2 decay. Until two records exist only ``z / l`` with
    ``xi = 0`` applies.

    Args:
        num_types (int): K.
        lr (float): Adam learning rate of ``xi``.
        gamma (float): Decay of ``xi``.
    """

    state_keys = ('xi', 'exp_avg', 'exp_avg_sq', 'steps', 'prev')
    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(self,
                 num_types: int,
                 lr: float = 0.025,
                 gamma: float = 0.001) -> None:
        super().__init__(num_types)
        self.lr = float(lr)
        self.gamma = float(gamma)
        self.xi = np.zeros(num_types)
        self.exp_avg = np.zeros(num_types)
        self.exp_avg_sq = np.zeros(num_types)
        self.steps = 0
        self.prev: Optional[np.ndarray] = None

    def update(self, losses: np.ndarray) -> np.ndarray:
        losses = np.asarray(losses, np.float64)
        if self.prev is not None:
            delta = np.log(self.prev) - np.log(losses)
            z = softmax(self.xi)
            grad = z * delta - z * (z @ delta) + self.gamma * self.xi
            self._adam_step(grad)
        self.prev = losses
        z = softmax(self.xi)
        self.stats = dict(famo_z=z)
        return (z / losses) / (z / losses).sum()

    def _adam_step(self, grad: np.ndarray) -> None:
        b1, b2 = self.betas
        self.steps += 1
        self.exp_avg = b1 * self.exp_avg + (1 - b1) * grad
        self.exp_avg_sq = b2 * self.exp_avg_sq + (1 - b2) * grad * grad
        m_hat = self.exp_avg / (1 - b1**self.steps)
        v_hat = self.exp_avg_sq / (1 - b2**self.steps)
        self.xi = self.xi - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def l1_per_image(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """Mean absolute error of one image on the [0, 1] scale.

    Args:
        pred (Tensor): Restored image, (C, H, W), values in 0..255.
        gt (Tensor): Ground truth, (C, H, W), values in 0..255.
    """
    diff = pred.detach().double() - gt.detach().to(pred.device).double()
    return float(diff.abs().mean()) / 255.0
