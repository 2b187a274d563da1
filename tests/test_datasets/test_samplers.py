"""TypeBalancedSampler: shares per type, determinism, rank slicing."""
import itertools
from collections import Counter
from unittest import mock

import pytest

from unirain_mm.datasets import TypeBalancedSampler


class Labels:
    """A dataset stand-in: only ``gt_label`` per index matters here."""

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(gt_label=self.labels[i])


# 90 DRS, 9 DRD, 1 NRS, no NRD: very unequal sizes
DATA = Labels([0] * 90 + [1] * 9 + [2])


def draw(sampler, n=4000):
    return list(itertools.islice(iter(sampler), n))


def test_types_are_drawn_equally_whatever_their_size():
    counts = Counter(DATA.labels[i] for i in draw(TypeBalancedSampler(
        DATA, seed=0)))
    assert set(counts) == {0, 1, 2}
    for n in counts.values():
        assert abs(n / 4000 - 1 / 3) < 0.04
    # within a type, every sample is reachable
    assert set(draw(TypeBalancedSampler(DATA, seed=1))) == set(range(100))


def test_type_weights_and_errors():
    sampler = TypeBalancedSampler(DATA, type_weights=[0, 1, 3, 0], seed=0)
    counts = Counter(DATA.labels[i] for i in draw(sampler))
    assert set(counts) == {1, 2} and abs(counts[2] / 4000 - 0.75) < 0.04
    with pytest.raises(ValueError, match=r"no pairs of those types"):
        TypeBalancedSampler(DATA, type_weights=[1, 1, 1, 1], seed=0)
    with pytest.raises(ValueError, match='must be 4 non-negative'):
        TypeBalancedSampler(DATA, type_weights=[1, 1], seed=0)


def test_seeded_and_sliced_by_rank():
    assert draw(TypeBalancedSampler(DATA, seed=3), 50) == draw(
        TypeBalancedSampler(DATA, seed=3), 50)
    full = draw(TypeBalancedSampler(DATA, seed=3), 100)
    parts = []
    for rank in (0, 1):
        with mock.patch('unirain_mm.datasets.samplers.get_dist_info',
                        return_value=(rank, 2)):
            parts.append(draw(TypeBalancedSampler(DATA, seed=3), 50))
    assert parts[0] == full[0::2] and parts[1] == full[1::2]


def test_builds_from_a_runner_config(pair_tree):
    from mmengine.registry import init_default_scope
    from mmagic.registry import DATA_SAMPLERS
    from unirain_mm.datasets import RainTypeDataset
    init_default_scope('mmagic')
    ds = RainTypeDataset(pair_tree, split='train')
    sampler = DATA_SAMPLERS.build(dict(type='TypeBalancedSampler'),
                                  default_args=dict(dataset=ds, seed=0))
    assert {ds.get_data_info(i)['gt_label'] for i in draw(sampler, 200)} == {
        0, 1, 2, 3}
