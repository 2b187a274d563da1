"""Convert a public deraining dataset into the four-type layout.

Writes ``OUT/<split>/<type>/{input,target}/<key><ext>`` (symbolic links by
default) and ``OUT/lists/<source>_<split>.tsv``. Running it again redoes only
what is missing or wrong, so an interrupted run can simply be restarted.

Examples::

    python tools/dataset_converters/convert_rain_datasets.py --list-datasets
    python tools/dataset_converters/convert_rain_datasets.py \\
        --dataset rain13k --src downloads/Datasets --out data/unirain
    python tools/dataset_converters/convert_rain_datasets.py \\
        --dataset generic --src downloads/MyRain --rain-type NRS \\
        --input-rule '{}_rain' --target-rule '{}_clean'
    python tools/dataset_converters/convert_rain_datasets.py \\
        --dataset rainrag --src downloads/RainRAG_test --split test
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm.datasets.converters import (  # noqa: E402
    MODES, convert, converter_names, converter_options, describe)

#: Converter options: flag -> (keyword, help). A dataset accepts the flags
#: whose keyword its converter takes (``converter_options``).
OPTIONS = {
    '--rain-type': ('rain_type', 'rain type of the pairs: DRS, DRD, NRS, NRD'),
    '--split': ('split', 'split the pairs go to (default: train); for '
                'rainrag, which set --src is: train or test'),
    '--input-dir': ('input_dir', 'rainy folder under --src (default: input)'),
    '--target-dir': ('target_dir',
                     'clean folder under --src (default: target)'),
    '--input-rule': ('input_rule',
                     'naming rule of rainy images, e.g. "{}_rain" '
                     '(default: "{}")'),
    '--target-rule': ('target_rule',
                      'naming rule of clean images, e.g. "{}_clean" '
                      '(default: "{}")'),
    '--mapping': ('mapping', 'file of "<rainy> <clean>" lines, paths '
                  'relative to --src (replaces the rules)'),
    '--recursive': ('recursive', 'pair images in sub-folders too'),
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a deraining dataset from its published layout '
        'into <out>/<split>/<type>/{input,target}/ and list files')
    parser.add_argument('--list-datasets', action='store_true',
                        help='show the converters and the layout each reads')
    parser.add_argument('--dataset', choices=converter_names(),
                        help='converter to run')
    parser.add_argument('--src', help='dataset root in its published layout')
    parser.add_argument('--out', default='data/unirain',
                        help='root of the four-type layout (default: '
                        'data/unirain)')
    parser.add_argument('--mode', choices=MODES, default='symlink',
                        help='how images are placed (default: symlink)')
    parser.add_argument('--source',
                        help='source name in keys and list files (default: '
                        'the dataset name)')
    group = parser.add_argument_group(
        'converter options', 'each only for the datasets named in brackets')
    for flag, (dest, text) in OPTIONS.items():
        takers = ', '.join(_takers(dest))
        kind = dict(action='store_true') if dest == 'recursive' else {}
        group.add_argument(flag, dest=dest, help=f'[{takers}] {text}',
                           **kind)
    args = parser.parse_args(argv)
    if not args.list_datasets and (args.dataset is None or args.src is None):
        parser.error('--dataset and --src are required (or --list-datasets)')
    if args.dataset is not None:
        taken = converter_options(args.dataset)
        for flag, (dest, _) in OPTIONS.items():
            if _given(args, dest) and dest not in taken:
                parser.error(f'{flag}: only for --dataset '
                             f'{" / ".join(_takers(dest))}')
    return args


def _takers(dest: str) -> List[str]:
    """The datasets whose converter takes the option ``dest``."""
    return [n for n in converter_names() if dest in converter_options(n)]


def _given(args: argparse.Namespace, dest: str) -> bool:
    """Whether the option ``dest`` was set on the command line."""
    return getattr(args, dest) not in (None, False)


def list_datasets() -> None:
    """Print every converter with the layout it expects, generic last."""
    for name in sorted(converter_names(), key=lambda n: (n == 'generic', n)):
        print(f'== {name}\n{describe(name)}\n')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.list_datasets:
        list_datasets()
        return
    options = {dest: getattr(args, dest) for dest, _ in OPTIONS.values()
               if _given(args, dest)}
    try:
        convert(args.dataset, args.src, args.out, args.mode, args.source,
                **options)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
