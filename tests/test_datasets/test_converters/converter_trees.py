"""Fake dataset trees in published layouts, and a check of converted output.

Every clean image gets its own colour c (channel 0) and every rainy image
repeats the colour of its clean image, so a converted pair can be checked
by its pixels: input[..., 0] == target[..., 0].
"""
import itertools
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np
import pytest

from unirain_mm.datasets import RainTypeDataset
from unirain_mm.datasets.pairs import read_pair_list


class FakeTree:
    """Writes tiny 8x8 images under ``<tmp>/src``; ``out`` is the output."""

    def __init__(self, root: str) -> None:
        self.src = osp.join(root, 'src')
        self.out = osp.join(root, 'out')
        os.makedirs(self.src)
        self._colour = itertools.count(1)
        self._noise = itertools.count(1)

    def image(self, rel: str, colour: int) -> str:
        """PNG data under any name (cv2 decodes by content, not suffix)."""
        path = osp.join(self.src, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        img = np.zeros((8, 8, 3), np.uint8)
        img[..., 0] = colour
        img[..., 1] = next(self._noise) % 256
        with open(path, 'wb') as f:
            f.write(cv2.imencode('.png', img)[1].tobytes())
        return path

    def text(self, rel: str, content: str) -> str:
        path = osp.join(self.src, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(content)
        return path

    def pair(self, clean: str, *rainy: str) -> None:
        """A clean image and its rainy image(s)."""
        colour = next(self._colour)
        self.image(clean, colour)
        for rel in rainy:
            self.image(rel, colour)


@pytest.fixture
def tree(tmp_path) -> FakeTree:
    return FakeTree(str(tmp_path))


def check_output(out: str, source: str,
                 expected: Dict[str, Dict[str, int]]) -> None:
    """Check the converted layout and list files of one source."""
    lists = sorted(os.listdir(osp.join(out, 'lists')))
    assert lists == sorted(f'{source}_{s}.tsv' for s in expected)
    keys = set()
    for split, counts in expected.items():
        records = read_pair_list(
            osp.join(out, 'lists', f'{source}_{split}.tsv'))
        got = {}
        for rec in records:
            got[rec.rain_type] = got.get(rec.rain_type, 0) + 1
            assert (rec.source, rec.split) == (source, split)
            for side, path in (('input', rec.input_path),
                               ('target', rec.target_path)):
                assert osp.dirname(path) == osp.join(out, split,
                                                     rec.rain_type, side)
                assert osp.splitext(osp.basename(path))[0] == rec.key
            rainy = cv2.imread(rec.input_path)
            clean = cv2.imread(rec.target_path)
            assert (rainy[..., 0] == clean[..., 0]).all(), rec
        assert got == counts, split
        keys.update(r.key for r in records)
        # No serialisation: its gc.collect() costs 0.3 s a dataset.
        dataset = RainTypeDataset(out, split=split, rain_types=list(counts),
                                  serialize_data=False)
        assert len(dataset) == sum(counts.values())
    total = sum(sum(c.values()) for c in expected.values())
    assert len(keys) == total, 'keys are not unique across splits'


@pytest.fixture(name='check_output')
def check_output_fixture():
    return check_output
