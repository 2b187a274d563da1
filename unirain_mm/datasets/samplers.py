"""Draw training samples with a fixed share per rain type."""
import itertools
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmagic.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from unirain_mm.rain_types import RAIN_TYPES


@DATA_SAMPLERS.register_module()
class TypeBalancedSampler(Sampler):
    """An infinite sampler that first draws a rain type, then a sample of
    that type uniformly -- so a type with 10x fewer pairs is still seen as
    often (the four types of the pooled data differ a lot in size).

    Like mmengine's ``InfiniteSampler``, one seeded stream is sliced by rank,
    so ranks draw different samples and a seeded run is reproducible.

    Args:
        dataset: A dataset whose ``get_data_info(i)`` has ``gt_label``.
        type_weights (Sequence[float], optional): Share of each type in
            :data:`RAIN_TYPES` order; uniform over the present types if None.
            Types absent from the dataset must get weight 0.
        seed (int, optional): Random seed; synchronised across ranks if None.
    """

    def __init__(self,
                 dataset,
                 type_weights: Optional[Sequence[float]] = None,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.seed = sync_random_seed() if seed is None else seed
        labels = np.array([
            dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))
        ])
        self.indices_by_type = [
            np.flatnonzero(labels == t) for t in range(len(RAIN_TYPES))
        ]
        present = np.array([len(i) > 0 for i in self.indices_by_type])
        if type_weights is None:
            weights = present.astype(np.float64)
        else:
            weights = np.asarray(type_weights, np.float64)
            if weights.shape != (len(RAIN_TYPES), ) or (weights < 0).any():
                raise ValueError(f'type_weights {list(type_weights)} must be '
                                 f'{len(RAIN_TYPES)} non-negative numbers '
                                 f'in the order {RAIN_TYPES}')
            empty = [RAIN_TYPES[t] for t in np.flatnonzero(
                (weights > 0) & ~present)]
            if empty:
                raise ValueError(f'type_weights give weight to {empty}, but '
                                 'the dataset has no pairs of those types')
        if weights.sum() <= 0:
            raise ValueError('TypeBalancedSampler: no type to draw from')
        self.type_probs = torch.as_tensor(weights / weights.sum())

    def _infinite_indices(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed)
        while True:
            types = torch.multinomial(self.type_probs, 1024, True, generator=g)
            picks = torch.rand(1024, generator=g, dtype=torch.float64)
            for t, u in zip(types.tolist(), picks.tolist()):
                pool = self.indices_by_type[t]
                yield int(pool[int(u * len(pool))])

    def __iter__(self) -> Iterator[int]:
        yield from itertools.islice(self._infinite_indices(), self.rank, None,
                                    self.world_size)

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Not used: the stream is infinite (kept for the Runner's calls)."""
