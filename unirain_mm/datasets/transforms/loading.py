"""Load a rainy/clean pair from files or LMDB under the bad-data policy."""
from typing import Optional

from mmcv.transforms import BaseTransform
from mmagic.registry import TRANSFORMS

from unirain_mm.datasets.bad_data import (BadDataPolicy, SkipPair,
                                          decode_image, log_skip,
                                          match_sizes, pad_to_size)
from unirain_mm.datasets.lmdb_io import read_lmdb
from unirain_mm.fileio import read_bytes



@TRANSFORMS.register_module()
class LoadRainPair(BaseTransform):
    """Load ``img`` (rainy) and ``gt`` (clean) as RGB uint8 arrays.

    Reads from the LMDBs named by ``img_lmdb``/``gt_lmdb`` when the sample
    has them (:class:`PairedLmdbDataset`), else from ``img_path``/``gt_path``
    (:class:`RainTypeDataset`). Then applies the bad-data policy
    (:mod:`unirain_mm.datasets.bad_data`): grayscale, RGBA and 16-bit images
    are converted, pairs of different sizes fail, pairs smaller than
    ``min_size`` are padded, undecodable ones are skipped (the transform
    returns None and mmengine draws another sample) -- each configurable.

    In a ``test_mode`` dataset a skipped pair makes mmengine stop ("Test
    time pipeline should not get None"); the warning just before names the
    key. Test pipelines therefore set ``policy=dict(corrupt='error')``.

    Writes the keys mmagic's ``LoadImageFromFile`` writes for both images
    (``ori_<key>_shape``, ``<key>_channel_order='rgb'``,
    ``<key>_color_type='color'``), so ``PackInputs`` and the metrics work
    unchanged.

    Args:
        policy (dict, optional): Overrides of :class:`BadDataPolicy`, e.g.
            ``dict(corrupt='error', size_mismatch='crop')``.
        min_size (int, optional): Smallest side accepted, usually the crop
            size of ``PairedRandomCrop``; None accepts any size.
    """

    def __init__(self, policy: Optional[dict] = None,
                 min_size: Optional[int] = None) -> None:
        self.policy = BadDataPolicy.build(policy)
        self.min_size = min_size
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        key = results.get('key', results.get('img_path'))
        try:
            img, gt = (self._decode(results, side, key)
                       for side in ('img', 'gt'))
            img, gt = match_sizes(img, gt, key, self.policy)
            if self.min_size:
                img, gt = pad_to_size(img, gt, self.min_size, key,
                                      self.policy)
        except SkipPair as reason:
            self.num_skipped += 1
            log_skip(reason, self.num_skipped)
            return None
        for side, arr in (('img', img), ('gt', gt)):
            results[side] = arr
            results[f'ori_{side}_shape'] = arr.shape
            results[f'{side}_channel_order'] = 'rgb'
            results[f'{side}_color_type'] = 'color'
        return results

    def _decode(self, results: dict, side: str, key: str):
        what = 'input' if side == 'img' else 'target'
        if f'{side}_lmdb' in results:
            data = read_lmdb(results[f'{side}_lmdb'], results['key'])
        else:
            data = read_bytes(results[f'{side}_path'])
        return decode_image(data, key, self.policy, what)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(policy={self.policy}, '
                f'min_size={self.min_size})')
