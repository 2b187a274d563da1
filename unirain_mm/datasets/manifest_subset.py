"""Restrict a dataset to the pairs a distillation manifest keeps."""
import copy
import json
from typing import Sequence, Set, Union

from mmengine.dataset import BaseDataset
from mmagic.registry import DATASETS


def read_manifest_keys(path: str,
                       keep: Sequence[str] = ('keep', )) -> Set[str]:
    """Keys a manifest keeps.

    Two formats: plain text with one key per line (all kept), or JSON lines
    (objects with ``"key"`` and ``"decision"``, as the distillation pipeline
    writes; kept when the decision is in ``keep``). Blank lines and lines
    starting with ``#`` are ignored.

    Raises:
        ValueError: naming the file and line of a malformed line.
    """
    keys = set()
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            if not line.startswith('{'):
                keys.add(line)
                continue
            try:
                entry = json.loads(line)
                key, decision = entry['key'], entry['decision']
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(f'{path}:{line_no}: expected a JSON object '
                                 f'with "key" and "decision" ({e!r})'
                                 ) from None
            if decision in keep:
                keys.add(key)
    return keys


@DATASETS.register_module()
class ManifestSubset:
    """Wrap a dataset and keep only the keys a manifest keeps.

    Example config::

        dataset=dict(
            type='ManifestSubset',
            manifest='work_dirs/distill/manifest.jsonl',
            dataset=dict(type='PairedLmdbDataset', data_root=...))

    Args:
        dataset (dict | BaseDataset): The dataset (samples need ``key``).
        manifest (str): Manifest path (see :func:`read_manifest_keys`).
        keep (Sequence[str]): Decisions that keep a pair.
        strict (bool): Fail if the manifest keeps keys the dataset lacks
            (a manifest made for other data); else ignore them.
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 manifest: str,
                 keep: Sequence[str] = ('keep', ),
                 strict: bool = True) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.manifest = manifest
        wanted = read_manifest_keys(manifest, tuple(keep))
        dataset_keys = [
            dataset.get_data_info(i)['key'] for i in range(len(dataset))
        ]
        unknown = wanted - set(dataset_keys)
        if strict and unknown:
            raise ValueError(
                f'{manifest} keeps {len(unknown)} keys that the dataset does '
                f'not hold (e.g. {sorted(unknown)[:3]}); was it made for '
                'other data? Pass strict=False to ignore them')
        indices = [i for i, k in enumerate(dataset_keys) if k in wanted]
        if not indices:
            raise ValueError(f'{manifest} keeps none of the dataset\'s pairs')
        self.dataset = dataset.get_subset(indices)

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        self.dataset.full_init()

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        return self.dataset[idx]
