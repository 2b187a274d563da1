"""Per-type loss-weight strategies driven by validation losses.

A strategy sees one vector of per-type validation losses per round and
returns the per-type loss weights, shape (K,), non-negative and summing to
1. What is common to all strategies (the warm-up, the weight floor, skipped
rounds) is :class:`~unirain_mm.reweighting.schedule.ReweightSchedule`'s job.

Strategies (``type`` in the ``strategy`` config of ``ReweightingHook``),
built from :data:`REWEIGHT_STRATEGIES`:

- ``Uniform``: fixed weights 1/K (the ablation baseline).
- ``CoBa``: UniRain's multi-objective reweighting (docs/method.md, section
  "Optimisation"), variants ``official`` (the authors' released code) and
  ``paper`` (the paper's equations).
- ``DWA``: Dynamic Weight Average (Liu et al., CVPR 2019).
- ``FAMO``: Fast Adaptive Multitask Optimization (Liu et al., NeurIPS 2023),
  adapted to validation losses at the round cadence.

All arithmetic is float64 numpy, so that every rank (given the same losses)
and a resumed run (given the saved state) compute bit-identical weights.
This module imports neither torch nor mmagic.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.registry import Registry

Stats = Dict[str, Union[float, np.ndarray]]

#: Reweighting strategies; add one with
#: ``@REWEIGHT_STRATEGIES.register_module()``.
REWEIGHT_STRATEGIES = Registry(
    'reweighting strategy', locations=['unirain_mm.reweighting.strategies'])

#: The authors' code adds this to every normalising sum (``official``).
AUTHORS_EPS = 1e-8
#: The authors' code clamps every fitted slope to +-SLOPE_CLAMP.
SLOPE_CLAMP = 1e3


def build_strategy(cfg: dict, num_types: int) -> 'ReweightStrategy':
    """Build a strategy from ``dict(type=<name>, **kwargs)`` for K types."""
    cfg = dict(cfg)
    name = cfg.get('type')
    if name not in REWEIGHT_STRATEGIES:
        raise KeyError(f'unknown reweighting strategy {name!r}; registered: '
                       f'{sorted(REWEIGHT_STRATEGIES.module_dict)}')
    return REWEIGHT_STRATEGIES.build(cfg, default_args=dict(
        num_types=num_types))


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


def fit_slope(y: Sequence[float]) -> float:
    """Least-squares slope of ``y`` against 0, 1, ..., n-1 (with intercept).

    0 for fewer than two points, clamped to +-:data:`SLOPE_CLAMP`, as in the
    authors' code.
    """
    y = np.asarray(y, np.float64)
    if y.size < 2:
        return 0.0
    x = np.arange(y.size, dtype=np.float64)
    x -= x.mean()
    slope = (x * (y - y.mean())).sum() / (x * x).sum()
    return float(np.clip(slope, -SLOPE_CLAMP, SLOPE_CLAMP))


class ReweightStrategy:
    """Maps the sequence of per-type validation losses to loss weights.

    Subclasses implement :meth:`update` (and :meth:`observe` where the
    warm-up should record less) and name in ``state_keys`` the attributes
    that make up their state (lists or numbers, saved to checkpoints as plain
    Python values).

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

    def observe(self, losses: np.ndarray) -> None:
        """Record one warm-up round (its weights are not used).

        By default the strategy runs as in any round and its weights are
        dropped, so its state is warm when the warm-up ends.
        """
        self.update(losses)
        self.stats = {}

    def state_dict(self) -> dict:
        return {k: to_builtin(getattr(self, k)) for k in self.state_keys}

    def load_state_dict(self, state: dict) -> None:
        missing = [k for k in self.state_keys if k not in state]
        if missing:
            raise KeyError(f'{type(self).__name__} state lacks {missing}')
        for key in self.state_keys:
            setattr(self, key, _restore(getattr(self, key), state[key]))


def to_builtin(value):
    """Arrays (also inside lists and dicts) as lists, for JSON and pickle."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
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


@REWEIGHT_STRATEGIES.register_module()
class Uniform(ReweightStrategy):
    """Fixed uniform weights 1/K (the baseline of the ablation)."""

    def update(self, losses: np.ndarray) -> np.ndarray:
        return self.uniform


@REWEIGHT_STRATEGIES.register_module()
class CoBa(ReweightStrategy):
    """UniRain's multi-objective reweighting (after CoBa, Gong et al. 2024).

    Three terms are mixed: a balance term (TBS in the paper, RCS in the
    authors' code: slower types get more weight), a stability term (TSS /
    ACS: a type that starts to diverge is pushed down) and the adaptivity
    factor between them (AF / DF: near 1 while the worst curve falls
    steadily). The stats keep the paper's names: ``coba_tbs``, ``coba_tss``,
    ``coba_af``.

    **Warm-up** (:meth:`observe`, both variants, as the authors' code does):
    only the loss is recorded; the slope histories start at the first round
    after the warm-up.

    **Variant ``official``**, the authors' released ``train.py`` exactly.
    Every update appends the losses ``l`` (K,) to the loss history (T
    records), then, with ``N`` the window, ``W = min(N, T)`` and
    ``e = 1e-8``:

    - ``a_i``: least-squares slope of type i's last ``W`` losses against
      0, 1, ... (:func:`fit_slope`: clamped to +-1e3, 0 below two points),
      appended to the per-type slope history;
    - ``TBS = softmax(K a / (sum_j |a_j| + e))``;
    - ``TSS = softmax_i(-n a_i / (sum_{s in S} |a_i(s)| + e))``, S the last
      ``n = min(N, len)`` slope records (the newest one included);
    - the worst curve is the element-wise maximum over types of the loss
      window; its slope is appended to its own history h, and
      ``AF = softmax(tau * (-m h / (sum |h| + e)))[-1]`` over the last
      ``m = min(N, len)`` entries;
    - ``w = softmax(K (AF TBS + (1 - AF) TSS))``, and the strategy returns
      ``softmax(K w)``: the authors sharpen twice (once in ``CoBaStatus``,
      once in the training module, before the weight floor).

    **Variant ``paper``**, the paper's equations: the curves are the losses
    normalised by each type's first record, ``x / 0 := 0`` instead of
    ``+ e``, ``w = AF TBS + (1 - AF) TSS`` without sharpening, and::

        v_s = -tau * t * a_max(s) / sum_{r<=t} |a_max(r)|,  s = 1..t
        AF  = min(t * softmax(v)_t, 1)

    over the whole worst-curve slope history (t records). Choices where the
    paper is open (ours): the windowed slopes, ``n`` = the records actually
    summed while fewer than N exist, and uniform weights while fewer than
    two loss records exist.

    Args:
        num_types (int): K.
        variant (str): ``'official'`` or ``'paper'``.
        window (int): N, losses per slope fit and slope records per
            TSS / official AF.
        tau (float): Temperature of AF.
        fixed_af (float, optional): Replace AF by this constant, for the
            ablation of the optimisation terms: 1.0 is TBS only, 0.5 an equal
            TBS + TSS mix without adaptivity (our reading of the paper's
            Table 5 rows).
    """

    VARIANTS = ('official', 'paper')
    state_keys = ('losses', 'slopes', 'max_slopes')

    def __init__(self,
                 num_types: int,
                 variant: str = 'official',
                 window: int = 10,
                 tau: float = 5.0,
                 fixed_af: Optional[float] = None) -> None:
        super().__init__(num_types)
        if variant not in self.VARIANTS:
            raise ValueError(f'CoBa variant must be one of {self.VARIANTS}, '
                             f'got {variant!r}')
        if window < 2:
            raise ValueError(f'CoBa window must be >= 2, got {window}')
        if fixed_af is not None and not 0.0 <= fixed_af <= 1.0:
            raise ValueError(f'CoBa fixed_af must be in [0, 1], got '
                             f'{fixed_af}')
        self.variant = variant
        self.window = window
        self.tau = float(tau)
        self.fixed_af = fixed_af
        self.losses: List[np.ndarray] = []  # l(s), (K,) each
        self.slopes: List[np.ndarray] = []  # a(t), (K,) each
        self.max_slopes: List[float] = []  # slope of the worst curve

    def observe(self, losses: np.ndarray) -> None:
        self.losses.append(np.asarray(losses, np.float64))
        self.stats = {}

    def update(self, losses: np.ndarray) -> np.ndarray:
        self.losses.append(np.asarray(losses, np.float64))
        if self.variant == 'official':
            return self._official()
        return self._paper()

    def _af(self, computed: float) -> float:
        return computed if self.fixed_af is None else float(self.fixed_af)

    def _official(self) -> np.ndarray:
        k, eps = self.num_types, AUTHORS_EPS
        curves = np.stack(self.losses[-self.window:])  # (W, K)
        slopes = np.array([fit_slope(c) for c in curves.T])
        tbs = softmax(k * slopes / (np.abs(slopes).sum() + eps))
        self.slopes.append(slopes)
        recent = np.stack(self.slopes[-self.window:])  # (n, K)
        tss = softmax(-len(recent) * slopes /
                      (np.abs(recent).sum(axis=0) + eps))
        self.max_slopes.append(fit_slope(curves.max(axis=1)))
        hist = np.asarray(self.max_slopes[-self.window:])
        af = self._af(float(softmax(
            self.tau * (-hist.size * hist / (np.abs(hist).sum() + eps)))[-1]))
        weights = softmax(k * (af * tbs + (1.0 - af) * tss))
        self.stats = dict(coba_tbs=tbs, coba_tss=tss, coba_af=af)
        return softmax(k * weights)

    def _paper(self) -> np.ndarray:
        if len(self.losses) < 2:
            self.stats = {}
            return self.uniform
        k = self.num_types
        curves = np.stack(self.losses[-self.window:]) / self.losses[0]
        slopes = np.array([fit_slope(c) for c in curves.T])
        self.slopes.append(slopes)
        self.max_slopes.append(fit_slope(curves.max(axis=1)))
        tbs = softmax(k * safe_div(slopes, np.abs(slopes).sum()))
        recent = np.stack(self.slopes[-self.window:])  # (n, K)
        tss = softmax(-len(recent) *
                      safe_div(slopes, np.abs(recent).sum(axis=0)))
        hist = np.asarray(self.max_slopes)
        t = hist.size
        v = -self.tau * t * safe_div(hist, np.abs(hist).sum())
        af = self._af(float(min(t * softmax(v)[-1], 1.0)))
        self.stats = dict(coba_tbs=tbs, coba_tss=tss, coba_af=af)
        return af * tbs + (1.0 - af) * tss


@REWEIGHT_STRATEGIES.register_module()
class DWA(ReweightStrategy):
    """Dynamic Weight Average (Liu, Johns and Davison, CVPR 2019).

    ``r_i = l_i(T) / l_i(T-1)`` from the last two validation records and
    ``w_i = K exp(r_i / T) / sum_j exp(r_j / T)``, normalised here to
    ``softmax(r / T)`` (sum 1). Uniform until two records exist. The paper
    uses epoch-averaged training losses; here they are the validation losses
    of consecutive rounds.

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


@REWEIGHT_STRATEGIES.register_module()
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
    validation loss at the round cadence (FAMO uses every batch's training
    losses), the loss it weights is the model's linear weighted L1, so the
    weights are ``w = (z / l(T)) / sum_j (z_j / l_j(T))``, and ``xi`` is
    stepped with Adam (betas 0.9/0.999, eps 1e-8), as in FAMO's code, with
    ``gamma`` as L2 decay. Until two records exist only ``z / l`` with
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
