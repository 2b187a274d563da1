"""Test loaders and evaluators for any subset of the deraining benchmarks.

mmengine cannot merge lists across config files, so the per-benchmark lists
that ``MultiTestLoop`` needs are built here from benchmark names;
``tools/test.py`` calls :func:`benchmark_test_cfg` for ``--benchmarks`` or a
config's ``test_benchmarks``.

A name is one of the four RainRAG type splits (``DRS``, ``DRD``, ``NRS``,
``NRD``, read from ``<data_root>/test/<type>/``), a public benchmark of
:data:`~unirain_mm.datasets.benchmarks.BENCHMARKS` (read from
``<data_root>/<name>/<type>/``), any other converted set as ``<name>:<type>``
(read from ``<data_root>/<name>/<type>/``, reported as ``<name>``) or a group
of :data:`BENCHMARK_GROUPS`.
A benchmark named explicitly must exist; a group skips its members that are
not converted yet, with a message, so ``all`` evaluates whatever is there.

:func:`apply_protocol` switches any test config (the config's own test sets
or the benchmarks) to the UniRain authors' evaluation protocol.
"""
import logging
import os.path as osp
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from unirain_mm.datasets.benchmarks import BENCHMARKS
from unirain_mm.datasets.data_root import rain_type_loader
from unirain_mm.rain_types import RAIN_TYPES, rain_type_code

#: group name -> benchmark names (docs/method.md, "Evaluation").
BENCHMARK_GROUPS = OrderedDict([
    ('all', tuple(RAIN_TYPES) + tuple(BENCHMARKS)),
    ('types', tuple(RAIN_TYPES)),
    ('real', ('RealRain-1k-L', 'RealRain-1k-H', 'RainDS-real-RD',
              'RainDS-real-RDS', 'WeatherBench-rain')),
    ('classic', ('Rain100L', 'Rain100H', 'Test100', 'Test1200', 'Test2800',
                 'RainDrop-test_a', 'RainDrop-test_b', 'GTAV-NightRain')),
])

#: Loads the rainy input and the target as RGB; a bad pair stops the run
#: rather than vanishing from the average (as in the dataset base config).
TEST_PIPELINE = (
    dict(type='LoadRainPair', policy=dict(corrupt='error')),
    dict(type='PackInputs'),
)


#: Evaluation protocols of ``tools/test.py --protocol``: ``mmagic`` leaves
#: the config as it is; ``authors`` is the UniRain authors' test script.
PROTOCOLS = ('mmagic', 'authors')

#: The authors' metrics (their PSNR on RGB, pyiqa's default SSIM, LPIPS) and,
#: where a test set also scored its rainy input, the input's.
AUTHORS_METRICS = ('PSNRRGB', 'SSIMpyiqa', 'LPIPS')
AUTHORS_INPUT_METRICS = ('InputPSNRRGB', 'InputSSIMpyiqa')


def _authors_metrics(metrics: Sequence[dict]) -> List[dict]:
    """The authors' metrics replacing one test set's ``metrics``, with the
    same prefix."""
    metrics = list(metrics)
    if not metrics or not all(isinstance(m, dict) and 'type' in m
                              for m in metrics):
        raise ValueError('test_evaluator: expected metric dicts with a '
                         f'"type", got {metrics!r}')
    prefix = metrics[0].get('prefix')
    names = AUTHORS_METRICS
    if any(str(m['type']).startswith('Input') for m in metrics):
        names += AUTHORS_INPUT_METRICS
    return [dict(type=name, prefix=prefix) for name in names]


def _authors_evaluator(evaluator):
    """One test set's evaluator (a metric, a list of metrics or an
    ``Evaluator`` dict with ``metrics``) with the authors' metrics."""
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = dict(evaluator)
        evaluator['metrics'] = _authors_evaluator(evaluator['metrics'])
        return evaluator
    if isinstance(evaluator, dict):
        evaluator = [evaluator]
    return _authors_metrics(evaluator)


def _cropped_pipeline(pipeline: Sequence[dict], base: int) -> List[dict]:
    """``pipeline`` with ``CropToMultiple`` on img and gt before
    ``PackInputs``."""
    types = [step.get('type') for step in pipeline]
    if 'PackInputs' not in types:
        raise ValueError('the test pipeline has no PackInputs step to crop '
                         f'before: {types}')
    pipeline = [step for step in pipeline
                if step.get('type') != 'CropToMultiple']
    at = [step.get('type') for step in pipeline].index('PackInputs')
    crop = dict(type='CropToMultiple', keys=['img', 'gt'], base=base)
    return pipeline[:at] + [crop] + pipeline[at:]


def apply_protocol(cfg, protocol: str, base: int = 16) -> None:
    """Switch the test loaders and evaluators of ``cfg`` to ``protocol``.

    ``'mmagic'`` changes nothing. ``'authors'`` follows the UniRain authors'
    test script: every test pipeline centre-crops input and target to a
    multiple of ``base`` before inference
    (:class:`~unirain_mm.datasets.transforms.CropToMultiple`), and every
    test set reports ``PSNR-RGB``, ``SSIM-pyiqa``
    (:class:`~unirain_mm.evaluation.SSIMpyiqa`) and ``LPIPS`` (when its
    weights are present) under its prefix, plus the rainy input's
    ``PSNR-RGB``/``SSIM-pyiqa`` where the set scored its input before.

    Args:
        cfg (Config): A config with ``test_dataloader`` (one loader or a
            list, for ``MultiTestLoop``) and ``test_evaluator`` (one per
            loader), changed in place.
        protocol (str): One of :data:`PROTOCOLS`.
        base (int): The multiple of the crop.

    Raises:
        ValueError: An unknown protocol, or a test loader or evaluator that
            cannot be rewritten (named in the message).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'unknown protocol {protocol!r}; known: '
                         f'{", ".join(PROTOCOLS)}')
    if protocol == 'mmagic':
        return
    loaders, evaluator = cfg.get('test_dataloader'), cfg.get('test_evaluator')
    if not loaders or not evaluator:
        raise ValueError('the config has no test_dataloader/test_evaluator '
                         'to apply the protocol to')
    multi = isinstance(loaders, list)
    for loader in loaders if multi else [loaders]:
        dataset = loader['dataset']
        dataset['pipeline'] = _cropped_pipeline(dataset['pipeline'], base)
    if multi:
        if not isinstance(evaluator, list) or len(evaluator) != len(loaders):
            raise ValueError('test_evaluator: expected one evaluator per '
                             f'test loader ({len(loaders)})')
        cfg['test_evaluator'] = [_authors_evaluator(e) for e in evaluator]
    else:
        cfg['test_evaluator'] = _authors_evaluator(evaluator)


def benchmark_location(name: str) -> Tuple[str, str]:
    """The ``(split, rain_type)`` folder pair a benchmark is read from.

    Raises:
        ValueError: ``name`` is not a known benchmark or ``<name>:<type>``.
    """
    if ':' in name:
        split, _, rain_type = name.partition(':')
        if not split:
            raise ValueError(f'benchmark {name!r}: the name before ":" is '
                             'empty')
        return split, rain_type_code(rain_type)
    if name in RAIN_TYPES:
        return 'test', name
    if name in BENCHMARKS:
        return name, BENCHMARKS[name]
    raise ValueError(
        f'unknown benchmark {name!r}; known: '
        f'{", ".join(BENCHMARK_GROUPS["all"])}; groups: '
        f'{", ".join(BENCHMARK_GROUPS)}; other converted sets: '
        '<name>:<type>')


def benchmark_dir(data_root: str, name: str) -> str:
    """``<data_root>/<split>/<type>``, the folder holding input/ and
    target/."""
    return osp.join(data_root, *benchmark_location(name))


def resolve_benchmarks(names: Sequence[str], data_root: str) -> List[str]:
    """Expand groups and check that every benchmark's folder exists.

    Args:
        names (Sequence[str]): Benchmark and group names.
        data_root (str): Root of the converted benchmarks.

    Returns:
        list[str]: Benchmark names in the given order, one per folder.

    Raises:
        ValueError: An unknown name.
        FileNotFoundError: A benchmark named explicitly is not converted, or
            no benchmark of the selection is.
    """
    selected: List[str] = []
    for name in names:
        if name in BENCHMARK_GROUPS:
            for member in BENCHMARK_GROUPS[name]:
                if osp.isdir(benchmark_dir(data_root, member)):
                    selected.append(member)
                else:
                    print_log(
                        f'skipping benchmark {member} (group {name!r}): '
                        f'{benchmark_dir(data_root, member)} not found',
                        logger='current', level=logging.WARNING)
            continue
        folder = benchmark_dir(data_root, name)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'benchmark {name}: {folder} not found. Convert the '
                'benchmark into <data_root>/<split>/<type>/{input,target}/ '
                'with its converter in tools/dataset_converters/ (see '
                'README, "Data"), or pass --data-root.')
        selected.append(name)
    # one entry per folder: 'Rain100H' and 'Rain100H:DRS' are the same set
    by_location = {}
    for name in selected:
        by_location.setdefault(benchmark_location(name), name)
    selected = list(by_location.values())
    if not selected:
        raise FileNotFoundError(
            f'none of the benchmarks {list(names)} is under {data_root}; '
            'convert them with tools/dataset_converters/ or pass '
            '--data-root.')
    return selected


def benchmark_metrics(prefix: str) -> List[dict]:
    """Metric configs of one benchmark, prefixed with its name.

    ``PSNR-Y``/``SSIM-Y`` (mmagic's convention), ``PSNR-RGB`` and ``LPIPS``
    (the authors' PSNR and LPIPS; :func:`apply_protocol` gives all of their
    protocol), plus the rainy input's scores as the 'do nothing'
    reference.
    """
    names = ('PSNRY', 'SSIMY', 'PSNRRGB', 'LPIPS', 'InputPSNRY', 'InputSSIMY',
             'InputPSNRRGB')
    return [dict(type=name, prefix=prefix) for name in names]


def benchmark_prefixes(names: Sequence[str]) -> Dict[str, str]:
    """The metric prefix (and save folder) of each benchmark: its name
    without ``:<type>``, or ``<name>-<type>`` when one name is tested with
    several types (``val:DRS val:DRD`` -> ``val-DRS``, ``val-DRD``), because
    MultiTestLoop needs distinct prefixes."""
    bases = Counter(name.partition(':')[0] for name in names)
    prefixes = {}
    for name in names:
        base = name.partition(':')[0]
        prefixes[name] = base if bases[base] == 1 else \
            f'{base}-{benchmark_location(name)[1]}'
    return prefixes


def benchmark_test_cfg(names: Sequence[str],
                       data_root: str,
                       pipeline: Optional[Sequence[dict]] = None,
                       num_workers: int = 2) -> dict:
    """Config fields that test ``names`` with ``MultiTestLoop``.

    Args:
        names (Sequence[str]): Benchmark and group names (see
            :func:`resolve_benchmarks`).
        data_root (str): Root of the converted benchmarks.
        pipeline (Sequence[dict], optional): Test pipeline;
            :data:`TEST_PIPELINE` if None.
        num_workers (int): Data loading workers per benchmark.

    Returns:
        dict: ``test_dataloader`` and ``test_evaluator`` (one entry per
        benchmark, batch size 1 for images of any size) and ``test_cfg``.
    """
    pipeline = list(TEST_PIPELINE if pipeline is None else pipeline)
    loaders, evaluators = [], []
    selected = resolve_benchmarks(names, data_root)
    prefixes = benchmark_prefixes(selected)
    for name in selected:
        split, rain_type = benchmark_location(name)
        loaders.append(
            rain_type_loader(data_root, split, rain_type, pipeline,
                             num_workers))
        evaluators.append(benchmark_metrics(prefixes[name]))
    return dict(
        test_dataloader=loaders,
        test_evaluator=evaluators,
        test_cfg=dict(type='MultiTestLoop'))
