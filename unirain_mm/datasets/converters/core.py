"""Machinery shared by the dataset converters: the registry, pairing rules,
and writing the four-type layout with its list files.

A converter is a function ``fn(src, source, **options) -> List[PairRecord]``
registered in :data:`CONVERTERS` under a dataset name
(``@CONVERTERS.register_module('name')``); its keyword options are the
command-line flags it accepts. It walks ``src`` in the dataset's published
layout and returns one record per rainy image, with the *source* files as
paths. :func:`convert` then writes every pair to
``<out>/<split>/<type>/{input,target}/<key><ext>`` (the layout
:class:`~unirain_mm.datasets.RainTypeDataset` reads) and the list files
``<out>/lists/<source>_<split>.tsv`` (what the LMDB packer reads).
"""
import dataclasses
import errno
import inspect
import os
import os.path as osp
import re
import warnings
from collections import Counter
from typing import (Callable, Dict, Iterable, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

from mmengine.registry import Registry
from tqdm import tqdm

from unirain_mm.datasets.pairs import (IMG_EXTENSIONS, PairRecord, make_key,
                                       write_pair_list)
from unirain_mm.fileio import atomic_write_bytes

MODES = ('symlink', 'hardlink', 'copy')

#: Dataset name -> converter function (see the module docstring). An
#: mmengine registry, which imports neither torch nor mmagic.
CONVERTERS = Registry('dataset converter')

#: A naming rule: a pattern such as ``'{}_rain'`` or a function from a file
#: stem to the pair id (None when the stem does not follow the rule).
Rule = Union[str, Callable[[str], Optional[str]]]


def get_converter(name: str) -> Callable[..., List[PairRecord]]:
    """The converter registered as ``name``.

    Read from the registry's table: ``Registry.get`` would import torch
    (through mmengine's scope handling), which the data tools do without.
    """
    if name not in CONVERTERS.module_dict:
        raise KeyError(f'no converter {name!r}; registered: '
                       f'{", ".join(converter_names())}')
    return CONVERTERS.module_dict[name]


def describe(name: str) -> str:
    """The documentation of a converter: what it reads and where it goes."""
    return inspect.getdoc(get_converter(name)) or ''


def converter_names() -> List[str]:
    """The registered dataset names, sorted."""
    return sorted(CONVERTERS.module_dict)


def converter_options(name: str) -> List[str]:
    """The keyword options a converter takes (its parameters after ``src``
    and ``source``), in signature order."""
    params = list(inspect.signature(get_converter(name)).parameters)
    return params[2:]


def require_dir(path: str, converter: str) -> str:
    """Return ``path`` if it is a folder, else raise a FileNotFoundError
    naming the converter and the folder it expected."""
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'{converter}: expected the folder {path}, which does not exist. '
            f'See `convert_rain_datasets.py --list-datasets` for the layout '
            f'{converter} reads.')
    return path


def list_images(folder: str, recursive: bool = False) -> List[str]:
    """Image files in ``folder`` (and below, if ``recursive``), as sorted
    paths relative to ``folder``."""
    if not recursive:
        names = [n for n in os.listdir(folder)
                 if osp.isfile(osp.join(folder, n))]
    else:
        names = [osp.relpath(osp.join(root, n), folder)
                 for root, _, files in os.walk(folder) for n in files]
    return sorted(n for n in names if n.lower().endswith(IMG_EXTENSIONS))


def name_rule(pattern: str) -> Callable[[str], Optional[str]]:
    """Turn a naming pattern into a function from a file stem to its pair id.

    ``{}`` marks the id that a rainy image and its clean image share; ``*``
    matches any text (for several rainy images of one clean image). For
    example ``'{}_rain'`` maps ``'3_rain'`` to ``'3'``, ``'{}_*'`` maps
    ``'0001_07'`` to ``'0001'``, and ``'{}'`` is the same name.
    """
    if pattern.count('{}') != 1:
        raise ValueError(f'naming pattern {pattern!r} must hold exactly one '
                         '"{}" (the id shared by the rainy and clean image)')
    tokens = re.split(r'(\{\}|\*)', pattern)
    regex = re.compile(''.join(
        '(.+?)' if t == '{}' else '.*?' if t == '*' else re.escape(t)
        for t in tokens))

    def rule(stem: str) -> Optional[str]:
        match = regex.fullmatch(stem)
        return match.group(1) if match else None

    return rule


def _as_rule(rule: Rule) -> Callable[[str], Optional[str]]:
    return name_rule(rule) if isinstance(rule, str) else rule


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def pair_folders(input_dir: str,
                 target_dir: str,
                 input_rule: Rule = '{}',
                 target_rule: Rule = '{}',
                 recursive: bool = False,
                 converter: str = 'generic') -> List[Tuple[str, str]]:
    """Pair the rainy images of ``input_dir`` with the clean images of
    ``target_dir``.

    A rainy and a clean image pair when they lie in the same relative
    sub-folder and their stems have the same id under the rules (see
    :func:`name_rule`). Several rainy images may share one clean image.
    Files whose stem does not follow the rule are ignored (the two folders
    may be one); rainy images without a clean image are skipped with a
    warning.

    Returns:
        list[tuple[str, str]]: (rainy path, clean path), sorted.

    Raises:
        FileNotFoundError: A folder is missing, or no pair was found.
        ValueError: Two clean images have the same id.
    """
    in_rule, tg_rule = _as_rule(input_rule), _as_rule(target_rule)
    require_dir(input_dir, converter)
    targets = {}
    for rel in list_images(require_dir(target_dir, converter), recursive):
        pair_id = tg_rule(_stem(rel))
        if pair_id is None:
            continue
        where = (osp.dirname(rel), pair_id)
        if where in targets:
            raise ValueError(
                f'{converter}: clean images {targets[where]} and {rel} in '
                f'{target_dir} have the same id {pair_id!r}')
        targets[where] = rel
    pairs, unmatched = [], []
    for rel in list_images(input_dir, recursive):
        pair_id = in_rule(_stem(rel))
        if pair_id is None:
            continue
        target = targets.get((osp.dirname(rel), pair_id))
        if target is None:
            unmatched.append(rel)
        else:
            pairs.append((osp.join(input_dir, rel),
                          osp.join(target_dir, target)))
    warn_unmatched(converter, input_dir, unmatched)
    if not pairs:
        raise FileNotFoundError(
            f'{converter}: no rainy image in {input_dir} has a clean image in '
            f'{target_dir} (rules {input_rule!r} -> {target_rule!r})')
    return pairs


def warn_unmatched(converter: str, where: str,
                   unmatched: Sequence[str]) -> None:
    """Warn that some rainy images were skipped for lack of a clean image."""
    if unmatched:
        warnings.warn(
            f'{converter}: skipped {len(unmatched)} rainy images in {where} '
            f'that have no clean image, e.g. {list(unmatched[:3])}')


def read_mapping(path: str, root: str,
                 converter: str = 'generic') -> List[Tuple[str, str]]:
    """Read a mapping file: one ``<rainy> <clean>`` pair per line.

    The two paths are separated by a tab, a comma or spaces and are relative
    to ``root``; a leading ``/`` is ignored (SPA-Data's ``real_world.txt``
    writes one). Blank lines and lines starting with ``#`` are skipped, and
    so, with a warning, are pairs whose files are missing.

    Raises:
        FileNotFoundError: The file is missing or lists no existing pair.
        ValueError: A line does not hold exactly two paths.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{converter}: expected the mapping file '
                                f'{path}, which does not exist')
    pairs, missing = [], []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            sep = '\t' if '\t' in line else ',' if ',' in line else None
            fields = [p.strip() for p in line.split(sep)]
            if len(fields) != 2:
                raise ValueError(f'{path}:{line_no}: expected two paths '
                                 f'(rainy, clean), got {line!r}')
            pair = tuple(osp.join(root, p.lstrip('/')) for p in fields)
            (pairs if all(map(osp.isfile, pair)) else missing).append(pair)
    warn_unmatched(converter, path, [p[0] for p in missing])
    if not pairs:
        raise FileNotFoundError(f'{converter}: {path} lists no pair whose '
                                f'files exist under {root}')
    return pairs


def make_records(pairs: Iterable[Tuple[str, str]], src: str, source: str,
                 rain_type: str, split: str) -> List[PairRecord]:
    """Records for source pairs, keyed by the rainy image's path under
    ``src`` (unique inside the dataset) and ``source`` (unique across
    datasets)."""
    return [
        PairRecord(
            key=make_key(source, osp.relpath(inp, src)),
            input_path=inp,
            target_path=tgt,
            rain_type=rain_type,
            source=source,
            split=split) for inp, tgt in pairs
    ]


class Part(NamedTuple):
    """One folder of a published dataset and where its pairs go.

    Attributes:
        folder (str): Folder relative to the dataset root.
        split (str): Split the pairs land in: ``train``, ``val`` or a
            test set's name (the benchmark name where it is one).
        rain_type (str): Type code of the pairs.
        input (str): Sub-folder of the rainy images.
        target (str): Sub-folder of the clean images.
        input_rule (Rule): Naming rule of the rainy images.
        target_rule (Rule): Naming rule of the clean images.
        recursive (bool): Whether images lie in sub-folders (paired by the
            same relative sub-folder).
    """
    folder: str
    split: str
    rain_type: str
    input: str = 'input'
    target: str = 'target'
    input_rule: Rule = '{}'
    target_rule: Rule = '{}'
    recursive: bool = False


def check_any(src: str, converter: str, folders: Sequence[str]) -> None:
    """Raise a FileNotFoundError unless ``src`` holds at least one of
    ``folders``. Datasets come in several archives, so any subset of their
    parts may be present."""
    require_dir(src, converter)
    if not any(osp.isdir(osp.join(src, f)) for f in folders):
        raise FileNotFoundError(
            f'{converter}: found none of the expected folders under {src}: '
            f'{", ".join(folders)}. See `convert_rain_datasets.py '
            f'--list-datasets` for the layout {converter} reads.')


def parts_records(src: str, source: str, converter: str,
                  parts: Sequence[Part]) -> List[PairRecord]:
    """Records of the parts of a dataset present under ``src``."""
    check_any(src, converter, [p.folder for p in parts])
    records = []
    for part in parts:
        base = osp.join(src, part.folder)
        if osp.isdir(base):
            pairs = pair_folders(
                osp.join(base, part.input), osp.join(base, part.target),
                part.input_rule, part.target_rule, part.recursive, converter)
            records += make_records(pairs, src, source, part.rain_type,
                                    part.split)
    return records


def _is_current(src: str, dst: str, mode: str) -> bool:
    """Whether ``dst`` already is what ``mode`` would make of ``src``."""
    if mode == 'symlink':
        return osp.islink(dst) and os.readlink(dst) == src
    if osp.islink(dst) or not osp.isfile(dst):
        return False
    if mode == 'hardlink':
        return osp.samefile(src, dst)
    src_stat, dst_stat = os.stat(src), os.stat(dst)
    return (src_stat.st_size == dst_stat.st_size
            and dst_stat.st_mtime >= src_stat.st_mtime)


def materialize(src: str, dst: str, mode: str = 'symlink') -> bool:
    """Make ``dst`` a symbolic link, a hard link or a copy of ``src``.

    The new file appears in one rename, so an interrupted run never leaves a
    partial one. A ``dst`` that already is what ``mode`` makes is left alone
    (copies count as current when their size matches and they are not
    older than the source).

    Returns:
        bool: False if ``dst`` was already current, True if it was written.
    """
    src = osp.abspath(src)
    if _is_current(src, dst, mode):
        return False
    os.makedirs(osp.dirname(dst), exist_ok=True)
    if mode == 'copy':
        with open(src, 'rb') as f:
            atomic_write_bytes(dst, f.read())
        return True
    # The '.part' suffix keeps a leftover out of RainTypeDataset's listing.
    tmp = osp.join(osp.dirname(dst), f'.tmp_{os.getpid()}_'
                   f'{osp.basename(dst)}.part')
    try:
        if mode == 'symlink':
            os.symlink(src, tmp)
        else:
            os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError as e:
        if osp.lexists(tmp):
            os.unlink(tmp)
        if e.errno == errno.EXDEV:
            raise OSError(e.errno, f'cannot hard-link {src} to {dst} across '
                          'file systems; use mode symlink or copy') from e
        raise
    return True


@dataclasses.dataclass
class ConvertSummary:
    """What :func:`convert` did.

    Attributes:
        counts (dict): Pairs per split and type, ``{split: {type: n}}``.
        lists (list[str]): The list files written, one per split.
        written (int): Files written in this run.
        current (int): Files that were already up to date.
    """
    counts: Dict[str, Dict[str, int]]
    lists: List[str]
    written: int
    current: int


def _check_unique(records: Sequence[PairRecord]) -> None:
    seen = {}
    for rec in records:
        if rec.key in seen:
            raise ValueError(f'two pairs have the key {rec.key!r}: '
                             f'{seen[rec.key]} and {rec.input_path}')
        seen[rec.key] = rec.input_path


def convert(name: str,
            src: str,
            out: str,
            mode: str = 'symlink',
            source: Optional[str] = None,
            progress: bool = True,
            **options) -> ConvertSummary:
    """Convert a dataset from its published layout into the four-type layout.

    Writes ``<out>/<split>/<type>/{input,target}/<key><ext>`` and one list
    file ``<out>/lists/<source>_<split>.tsv`` per split, and prints the pairs
    per split and type. Running it again only redoes what is missing or
    wrong, so an interrupted run can simply be started again.

    Args:
        name (str): Converter name, a key of :data:`CONVERTERS`.
        src (str): Root of the dataset in its published layout.
        out (str): Root of the four-type layout.
        mode (str): ``'symlink'`` (default, no copying), ``'hardlink'`` or
            ``'copy'``. Links make many rainy images that share one clean
            image cheap; ``copy`` stores that clean image once per pair.
        source (str, optional): Name of the source in keys and list files.
            Defaults to ``name``; give another to convert two copies of a
            dataset (e.g. two GTAV-NightRain sets) into one ``out``.
        progress (bool): Show a progress bar.
        **options: The converter's keyword options
            (:func:`converter_options`).

    Returns:
        ConvertSummary: Pair counts, list files and files written.
    """
    if name not in CONVERTERS.module_dict:
        raise KeyError(f'unknown dataset {name!r}; known: '
                       f'{", ".join(converter_names())}')
    if mode not in MODES:
        raise ValueError(f'unknown mode {mode!r}; expected one of {MODES}')
    source = source or name
    records = get_converter(name)(src, source, **options)
    if not records:
        raise FileNotFoundError(f'{name}: no pairs found under {src}')
    _check_unique(records)
    by_split: Dict[str, List[PairRecord]] = {}
    written = 0
    for rec in tqdm(records, desc=f'{name} ({mode})', unit='pair',
                    disable=not progress):
        folder = osp.join(out, rec.split, rec.rain_type)
        paths = {}
        for side, path in (('input', rec.input_path),
                           ('target', rec.target_path)):
            paths[side] = osp.join(folder, side, rec.key +
                                   osp.splitext(path)[1].lower())
            written += materialize(path, paths[side], mode)
        by_split.setdefault(rec.split, []).append(
            dataclasses.replace(rec, input_path=paths['input'],
                                target_path=paths['target']))
    lists = []
    for split, recs in by_split.items():
        lists.append(osp.join(out, 'lists', f'{source}_{split}.tsv'))
        write_pair_list(lists[-1], recs)
    summary = ConvertSummary(
        counts={split: dict(sorted(Counter(r.rain_type for r in recs).items()))
                for split, recs in by_split.items()},
        lists=lists,
        written=written,
        current=2 * len(records) - written)
    _print_summary(name, out, mode, source, summary)
    return summary


def _print_summary(name: str, out: str, mode: str, source: str,
                   summary: ConvertSummary) -> None:
    total = sum(sum(c.values()) for c in summary.counts.values())
    print(f'{name} -> {out} ({mode}): {total} pairs; {summary.written} files '
          f'written, {summary.current} already up to date')
    width = max(len(s) for s in summary.counts)
    for split, counts in summary.counts.items():
        for rain_type, n in counts.items():
            print(f'  {split:<{width}}  {rain_type}  {n:>8}')
    print(f'  list files: {osp.join(out, "lists", source)}_<split>.tsv')
