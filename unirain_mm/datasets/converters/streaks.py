"""Daytime rain-streak datasets (type DRS): Rain13K and its test sets,
SPA-Data, GT-RAIN, LHP-Rain, RealRain-1k and WeatherBench (rain)."""
import os
import os.path as osp
from typing import List

from unirain_mm.datasets.pairs import PairRecord
from .core import (CONVERTERS, Part, check_any, list_images, make_records,
                   parts_records, read_mapping, warn_unmatched)

#: The Rain13K protocol's test sets, each written as a split of its name.
RAIN13K_TESTS = ('Rain100L', 'Rain100H', 'Test100', 'Test1200', 'Test2800')


@CONVERTERS.register_module('rain13k')
def rain13k(src: str, source: str) -> List[PairRecord]:
    """Rain13K (Rain14000, Rain1800, Rain800 and Rain12 pooled) and its test
    sets Rain100L, Rain100H, Test100, Test1200 and Test2800. Synthetic
    daytime streaks: DRS.

    Layout of the MPRNet/Restormer release (``Datasets/`` once ``train.zip``
    and ``test.zip`` are unpacked)::

        <src>/
          train/Rain13K/input/<name>.jpg     rainy
          train/Rain13K/target/<name>.jpg    clean, same name
          test/<set>/input/<name>.png        <set>: Rain100L, Rain100H,
          test/<set>/target/<name>.png       Test100, Test1200, Test2800

    Goes to: ``train/DRS`` and ``<set>/DRS`` (the benchmark names).
    """
    parts = [Part('train/Rain13K', 'train', 'DRS')]
    parts += [Part(f'test/{name}', name, 'DRS') for name in RAIN13K_TESTS]
    return parts_records(src, source, 'rain13k', parts)


@CONVERTERS.register_module('spa-data')
def spa_data(src: str, source: str) -> List[PairRecord]:
    """SPA-Data (Wang et al., CVPR 2019): real daytime streaks, DRS.

    Layout of the official release (``Real_Rain_Streaks_Dataset_CVPR19``)::

        <src>/
          Training/real_world.txt       one "<rainy> <clean>" pair a line,
                                        paths under Training/
          Training/real_world/<video>/<video>-<frame>/<patch>.png   rainy
          Training/real_world_gt/<video>/<patch>.png                clean
          Testing/real_test_1000/rain/<n>.png                       rainy
          Testing/real_test_1000/gt/<n>gt.png                       clean

    The training pairs are exactly those of ``real_world.txt`` (each clean
    patch serves every frame of its video). Goes to: ``train/DRS`` and
    ``SPA-Data-test/DRS``.
    """
    check_any(src, 'spa-data', ['Training', 'Testing/real_test_1000'])
    records = []
    training = osp.join(src, 'Training')
    if osp.isdir(training):
        pairs = read_mapping(osp.join(training, 'real_world.txt'), training,
                             'spa-data')
        records += make_records(pairs, src, source, 'DRS', 'train')
    if osp.isdir(osp.join(src, 'Testing/real_test_1000')):
        records += parts_records(src, source, 'spa-data', [
            Part('Testing/real_test_1000', 'SPA-Data-test', 'DRS', 'rain',
                 'gt', '{}', '{}gt')
        ])
    return records


#: GT-RAIN archive folder -> split.
GT_RAIN_SPLITS = {
    'GT-RAIN_train': 'train',
    'GT-RAIN_val': 'val',
    'GT-RAIN_test': 'GT-RAIN-test',
}


@CONVERTERS.register_module('gt-rain')
def gt_rain(src: str, source: str) -> List[PairRecord]:
    """GT-RAIN (Ba et al., ECCV 2022): real daytime rain from video frames,
    DRS.

    Layout of the official archives, one folder per scene::

        <src>/
          GT-RAIN_train/<scene>/<scene>-R-<i>.png    rainy frames
          GT-RAIN_train/<scene>/<scene>-C-000.png    the scene's clean frame
          GT-RAIN_val/<scene>/...
          GT-RAIN_test/<scene>/...

    Every rainy frame pairs with its scene's clean frame; a scene with
    several clean frames pairs ``-R-<i>`` with ``-C-<i>`` (names may carry
    more text, e.g. ``<scene>-Webcam-R-000.png``). Goes to: ``train/DRS``,
    ``val/DRS`` and ``GT-RAIN-test/DRS``.
    """
    check_any(src, 'gt-rain', list(GT_RAIN_SPLITS))
    records = []
    for folder, split in GT_RAIN_SPLITS.items():
        base = osp.join(src, folder)
        if not osp.isdir(base):
            continue
        pairs, unmatched = [], []
        for scene in sorted(os.listdir(base)):
            scene_dir = osp.join(base, scene)
            if not osp.isdir(scene_dir):
                continue
            names = list_images(scene_dir)
            clean = {osp.splitext(n)[0]: n for n in names if '-C-' in n}
            for name in (n for n in names if '-R-' in n):
                stem = osp.splitext(name)[0]
                match = clean.get('-C-'.join(stem.rsplit('-R-', 1)))
                if match is None and len(clean) == 1:
                    match = next(iter(clean.values()))
                if match is None:
                    unmatched.append(osp.join(scene, name))
                else:
                    pairs.append((osp.join(scene_dir, name),
                                  osp.join(scene_dir, match)))
        warn_unmatched('gt-rain', base, unmatched)
        if not pairs:
            raise FileNotFoundError(
                f'gt-rain: no <scene>/<scene>-R-*.png with a -C- frame in '
                f'{base}')
        records += make_records(pairs, src, source, 'DRS', split)
    return records


@CONVERTERS.register_module('lhp-rain')
def lhp_rain(src: str, source: str) -> List[PairRecord]:
    """LHP-Rain (Guo et al., ICCV 2023): real daytime streaks and splashes,
    DRS.

    Layout (ASSUMED: the authors' SCD-Former loader reads ``input/`` and
    ``gt/`` of a split; the archive itself could not be checked)::

        <src>/
          train/input/[<sequence>/]<frame>.png    rainy
          train/gt/[<sequence>/]<frame>.png       clean, same path
          val/...
          test/...

    Goes to: ``train/DRS``, ``val/DRS`` and ``LHP-Rain-test/DRS``.
    """
    return parts_records(src, source, 'lhp-rain', [
        Part(folder, split, 'DRS', 'input', 'gt', recursive=True)
        for folder, split in (('train', 'train'), ('val', 'val'),
                              ('test', 'LHP-Rain-test'))
    ])


@CONVERTERS.register_module('realrain-1k')
def realrain_1k(src: str, source: str) -> List[PairRecord]:
    """RealRain-1k (Li et al., 2022): real daytime streaks, DRS.

    Layout of the release::

        <src>/
          RealRain-1k-H/train/input/<name>.png    rainy
          RealRain-1k-H/train/target/<name>.png   clean, same name
          RealRain-1k-H/test/{input,target}/
          RealRain-1k-L/{train,test}/{input,target}/

    Goes to: ``train/DRS``, ``RealRain-1k-H/DRS`` and ``RealRain-1k-L/DRS``
    (the benchmark names).
    """
    parts = []
    for subset in ('RealRain-1k-H', 'RealRain-1k-L'):
        parts += [Part(f'{subset}/train', 'train', 'DRS'),
                  Part(f'{subset}/test', subset, 'DRS')]
    return parts_records(src, source, 'realrain-1k', parts)


@CONVERTERS.register_module('weatherbench')
def weatherbench(src: str, source: str) -> List[PairRecord]:
    """WeatherBench (Guan et al., ACM MM 2024), its rain part only: real
    daytime rain, DRS.

    Layout (ASSUMED from code that reads it; the archive could not be
    checked)::

        <src>/
          rain/train/input/<name>.png     rainy
          rain/train/target/<name>.png    clean, same name
          rain/test/{input,target}/
          haze/, snow/                    ignored

    Goes to: ``train/DRS`` and ``WeatherBench-rain/DRS`` (the benchmark
    name).
    """
    return parts_records(src, source, 'weatherbench', [
        Part('rain/train', 'train', 'DRS'),
        Part('rain/test', 'WeatherBench-rain', 'DRS'),
    ])
