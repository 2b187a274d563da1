"""Reweighting strategies against hand-computed cases."""
import json

import numpy as np
import pytest

from unirain_mm.reweighting import (DWA, FAMO, REWEIGHT_STRATEGIES, CoBa,
                                    ReweightStrategy, Uniform, apply_floor,
                                    build_strategy, fit_slope)

# Records l_i(s) of three types, s = 1..4: A converges, B diverges (from
# the third record on), C is flat. With window N = 2 every slope is the
# difference of the last two points, which keeps the cases computable by
# hand.
CONVERGING = [1.0, 0.8, 0.6, 0.5]
DIVERGING = [1.0, 1.0, 1.1, 1.3]
FLAT = [2.0, 2.0, 2.0, 2.0]
LOSSES = np.array([CONVERGING, DIVERGING, FLAT]).T  # (4 records, 3 types)


def _softmax(*logits):
    e = np.exp(np.array(logits, dtype=np.float64))
    return e / e.sum()


def _run(strategy, losses):
    for row in losses:
        weights = strategy.update(row)
    return weights


def test_fit_slope():
    assert fit_slope([1.0, 3.0, 5.0]) == pytest.approx(2.0)
    assert fit_slope([2.0, 2.0]) == 0.0
    y = [0.9, 0.5, 0.7, 0.1, 0.2]
    assert fit_slope(y) == pytest.approx(np.polyfit(range(5), y, 1)[0])
    assert fit_slope([1.0]) == 0.0 and fit_slope([]) == 0.0
    # clamped to +-1e3 like the authors' code
    assert fit_slope([0.0, 5e3, 1e4]) == 1e3
    assert fit_slope([1e4, 0.0]) == -1e3


def test_coba_paper_hand_computed():
    coba = CoBa(3, variant='paper', window=2, tau=1.0)
    assert np.array_equal(coba.update(LOSSES[0]), np.full(3, 1 / 3))
    assert coba.stats == {}
    weights = _run(coba, LOSSES[1:])
    # normalised by the first record: C becomes 1, 1, 1, 1
    # slopes at t = 3 (records 3-4): A -0.1, B +0.2, C 0
    tbs = _softmax(3 * -0.1 / 0.3, 3 * 0.2 / 0.3, 0.0)
    # TSS over slope records t = 2, 3: A -0.2, -0.1; B 0.1, 0.2; C 0, 0
    tss = _softmax(-2 * -0.1 / 0.3, -2 * 0.2 / 0.3, 0.0)  # C: 0/0 -> 0
    # worst curve max_i y_i = 1, 1, 1.1, 1.3: a_max = 0, 0.1, 0.2
    v = [-1.0 * 3 * a / 0.3 for a in (0.0, 0.1, 0.2)]
    af = min(3 * _softmax(*v)[-1], 1.0)
    assert af == pytest.approx(0.27009, abs=1e-5)
    np.testing.assert_allclose(coba.stats['coba_tbs'], tbs, rtol=1e-9)
    np.testing.assert_allclose(coba.stats['coba_tss'], tss, rtol=1e-9)
    assert coba.stats['coba_af'] == pytest.approx(af, rel=1e-9)
    np.testing.assert_allclose(weights, af * tbs + (1 - af) * tss,
                               rtol=1e-9)
    # the diverging type is pushed down, the converging one up
    assert weights[0] > weights[2] > 1 / 3 * 0.7 and weights[1] < 0.3


def test_coba_official_hand_computed():
    coba = CoBa(3, variant='official', window=2, tau=1.0)
    weights = _run(coba, LOSSES)
    # raw losses: slopes as above (A and B start at 1), but the worst raw
    # curve is C's flat 2.0: a_max = 0 throughout, the windowed softmax is
    # uniform over its 2 entries and AF = 1/2. The sums carry + 1e-8.
    tbs = _softmax(-1.0, 2.0, 0.0)
    tss = _softmax(2 / 3, -4 / 3, 0.0)
    assert coba.stats['coba_af'] == pytest.approx(0.5)
    np.testing.assert_allclose(coba.stats['coba_tbs'], tbs, rtol=1e-6)
    np.testing.assert_allclose(coba.stats['coba_tss'], tss, rtol=1e-6)
    mixed = _softmax(*(3 * (0.5 * tbs + 0.5 * tss)))
    # the authors sharpen twice
    np.testing.assert_allclose(weights, _softmax(*(3 * mixed)), rtol=1e-6)
    # a slope record from the first round on (0 with one point)
    assert len(coba.slopes) == 4 and not coba.slopes[0].any()


def test_coba_warmup_records_losses_only():
    for variant in CoBa.VARIANTS:
        coba = CoBa(3, variant=variant, window=2)
        coba.observe(LOSSES[0])
        coba.observe(LOSSES[1])
        assert len(coba.losses) == 2 and coba.slopes == [] \
            and coba.max_slopes == [] and coba.stats == {}
        coba.update(LOSSES[2])
        assert len(coba.slopes) == 1 and len(coba.max_slopes) == 1


def test_coba_fixed_af_ablation():
    tbs_only = CoBa(3, variant='official', window=2, fixed_af=1.0)
    weights = _run(tbs_only, LOSSES)
    tbs = tbs_only.stats['coba_tbs']
    assert tbs_only.stats['coba_af'] == 1.0
    np.testing.assert_allclose(
        weights, _softmax(*(3 * _softmax(*(3 * tbs)))), rtol=1e-12)
    paper = CoBa(3, variant='paper', window=2, fixed_af=0.5)
    weights = _run(paper, LOSSES)
    np.testing.assert_allclose(
        weights, 0.5 * paper.stats['coba_tbs'] + 0.5 *
        paper.stats['coba_tss'], rtol=1e-12)
    with pytest.raises(ValueError, match='fixed_af'):
        CoBa(3, fixed_af=1.5)


def test_coba_adaptivity_follows_the_worst_curve():
    steady = np.array([[1.0 - 0.1 * s, 2.0 - 0.1 * s] for s in range(6)])
    paper = CoBa(2, variant='paper', window=3, tau=5.0)
    _run(paper, steady)
    assert paper.stats['coba_af'] == pytest.approx(1.0)  # steady fall
    faster = np.vstack([steady, [[0.2, 1.0]]])  # the fall speeds up
    paper = CoBa(2, variant='paper', window=3, tau=5.0)
    _run(paper, faster)
    assert paper.stats['coba_af'] == 1.0  # t * softmax > 1, clipped
    turning = np.vstack([steady, [[0.55, 1.5]]])  # the worst curve turns up
    paper = CoBa(2, variant='paper', window=3, tau=5.0)
    _run(paper, turning)
    assert paper.stats['coba_af'] < 0.1
    official = CoBa(2, variant='official', window=3, tau=5.0)
    _run(official, steady)
    assert official.stats['coba_af'] == pytest.approx(1 / 3)  # n_t = 3


@pytest.mark.parametrize('variant', ['paper', 'official'])
def test_coba_flat_curves_stay_finite(variant):
    coba = CoBa(4, variant=variant, window=3)
    weights = _run(coba, np.full((5, 4), 0.25))
    np.testing.assert_allclose(weights, np.full(4, 0.25))
    assert all(np.isfinite(v).all() for v in coba.stats.values())


def test_coba_rejects_bad_options():
    with pytest.raises(ValueError):
        CoBa(4, variant='mine')
    with pytest.raises(ValueError):
        CoBa(4, window=1)


def test_apply_floor():
    w = np.array([0.7, 0.25, 0.05, 0.0])
    for mode in ('affine', 'lift'):
        floored = apply_floor(w, 0.1, mode)
        np.testing.assert_allclose(floored, 0.1 + 0.6 * w)
        assert floored.sum() == pytest.approx(1.0) and floored.min() >= 0.1
    above = np.array([0.4, 0.3, 0.2, 0.1])
    assert apply_floor(above, 0.1, 'lift') is above
    # the authors' floor applies whatever the weights
    np.testing.assert_allclose(apply_floor(above, 0.1, 'affine'),
                               [0.34, 0.28, 0.22, 0.16])
    with pytest.raises(ValueError, match='floor mode'):
        apply_floor(above, 0.1, 'clip')


def test_dwa_hand_computed():
    dwa = DWA(3, temperature=2.0)
    assert np.array_equal(dwa.update(np.array([1.0, 2.0, 4.0])),
                          np.full(3, 1 / 3))
    weights = dwa.update(np.array([0.5, 2.0, 8.0]))
    # r = 0.5, 1, 2 -> exp(r / 2) normalised
    np.testing.assert_allclose(weights, _softmax(0.25, 0.5, 1.0))
    np.testing.assert_allclose(dwa.stats['dwa_ratio'], [0.5, 1.0, 2.0])


def test_famo_hand_computed():
    famo = FAMO(3, lr=0.1, gamma=0.01)
    first = np.array([1.0, 2.0, 4.0])
    # xi = 0, z uniform: w ~ z / l
    np.testing.assert_allclose(famo.update(first), [4 / 7, 2 / 7, 1 / 7])
    second = np.array([0.5, 2.0, 4.0])
    weights = famo.update(second)
    # delta = (log 2, 0, 0); g = J delta = log2 * (2/9, -1/9, -1/9); the
    # first Adam step is lr * g / |g|: xi = (-0.1, 0.1, 0.1)
    np.testing.assert_allclose(famo.xi, [-0.1, 0.1, 0.1], rtol=1e-6)
    z = _softmax(-0.1, 0.1, 0.1)
    np.testing.assert_allclose(famo.stats['famo_z'], z, rtol=1e-6)
    np.testing.assert_allclose(weights, (z / second) / (z / second).sum(),
                               rtol=1e-6)
    # the type that improved most loses logit weight
    assert famo.stats['famo_z'][0] < 1 / 3


@pytest.mark.parametrize('cfg', [
    dict(type='CoBa', variant='paper', window=3),
    dict(type='CoBa', variant='official', window=3),
    dict(type='DWA'),
    dict(type='FAMO'),
    dict(type='Uniform'),
])
def test_state_round_trip_continues_identically(cfg):
    rng = np.random.default_rng(0)
    losses = rng.uniform(0.1, 1.0, (7, 4))
    first = build_strategy(cfg, 4)
    _run(first, losses[:5])
    second = build_strategy(cfg, 4)
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    for row in losses[5:]:
        assert np.array_equal(first.update(row), second.update(row))


def test_registry():
    assert isinstance(build_strategy(dict(type='Uniform'), 4), Uniform)
    assert {'Uniform', 'CoBa', 'DWA', 'FAMO'} <= set(
        REWEIGHT_STRATEGIES.module_dict)
    with pytest.raises(KeyError, match='unknown'):
        build_strategy(dict(type='GradNorm'), 4)
    with pytest.raises(KeyError, match='already registered'):
        REWEIGHT_STRATEGIES.register_module(name='CoBa', module=Uniform)
    # a user's strategy joins through the same registry
    name = 'HalfAndHalfForTest'

    class HalfAndHalf(ReweightStrategy):

        def update(self, losses):
            return np.full(self.num_types, 1.0 / self.num_types)

    REWEIGHT_STRATEGIES.register_module(name=name, module=HalfAndHalf)
    try:
        assert isinstance(build_strategy(dict(type=name), 2), HalfAndHalf)
    finally:
        REWEIGHT_STRATEGIES.module_dict.pop(name)
