"""Pack rainy/clean pairs into LMDB (BasicSR layout), resumably; verify.

From list files written by the converters (keep the source column)::

    python tools/dataset_converters/pack_lmdb.py \
        --lists data/unirain/lists/*_train.tsv --out data/unirain/lmdb/train

From the ``<root>/<split>/<type>/{input,target}`` layout::

    python tools/dataset_converters/pack_lmdb.py \
        --layout data/demo --split train --out data/demo/lmdb/train

From one folder pair (same file names) of a single type::

    python tools/dataset_converters/pack_lmdb.py --input-dir rainy/ \
        --target-dir clean/ --rain-type DRS --source mydata --out out/

A killed run is resumed by running the same command again. ``--verify``
decodes every record and compares it with its source image.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm.datasets.bad_data import BadPairError  # noqa: E402
from unirain_mm.datasets.lmdb_pack import pack_pairs, verify_pairs  # noqa: E402
from unirain_mm.datasets.pairs import (IMG_EXTENSIONS, PairRecord,  # noqa: E402
                                       make_key, read_pair_list,
                                       records_from_layout)
from unirain_mm.rain_types import RAIN_TYPES  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Pack rainy/clean pairs into input.lmdb + target.lmdb',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--lists', nargs='+', help='pair list files (.tsv)')
    src.add_argument('--layout', help='root of the four-type layout')
    src.add_argument('--input-dir', help='folder of rainy images')
    parser.add_argument('--split', default='train',
                        help='split of --layout (default: train)')
    parser.add_argument('--rain-types', nargs='+', default=list(RAIN_TYPES),
                        help='types of --layout to pack (default: all)')
    parser.add_argument('--target-dir', help='clean images for --input-dir')
    parser.add_argument('--rain-type', help='type of the --input-dir pairs')
    parser.add_argument('--source', help='source name used in keys '
                        '(default: the name of --layout / --input-dir)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--compress-level', type=int, default=0,
                        help='PNG compression 0-9 (default 0: twice the disk '
                        'of 1, BasicSR\'s default, but twice the decoding '
                        'speed)')
    parser.add_argument('--workers', type=int, default=min(8, os.cpu_count()),
                        help='reading/encoding processes')
    parser.add_argument('--policy', nargs='+', default=[], metavar='CASE=ACT',
                        help='bad-data policy overrides, e.g. corrupt=error '
                        'size_mismatch=crop (see unirain_mm/datasets/'
                        'bad_data.py)')
    parser.add_argument('--verify', action='store_true',
                        help='compare every packed record with its source '
                        'instead of packing')
    return parser.parse_args(argv)


def collect_records(args: argparse.Namespace) -> list:
    """The pairs named by the command line."""
    if args.lists:
        records = []
        for path in args.lists:
            records += read_pair_list(path)
        return records
    if args.layout:
        return records_from_layout(args.layout, args.split, args.rain_types,
                                   args.source)
    if not (args.target_dir and args.rain_type):
        raise SystemExit('--input-dir needs --target-dir and --rain-type')
    source = args.source or osp.basename(osp.normpath(args.input_dir))
    targets = {osp.splitext(f)[0]: f for f in os.listdir(args.target_dir)}
    records = []
    for name in sorted(os.listdir(args.input_dir)):
        if not name.lower().endswith(IMG_EXTENSIONS):
            continue
        stem = osp.splitext(name)[0]
        if stem not in targets:
            raise SystemExit(f'{osp.join(args.input_dir, name)} has no clean '
                             f'image of the same name in {args.target_dir}')
        records.append(PairRecord(
            make_key(source, stem), osp.join(args.input_dir, name),
            osp.join(args.target_dir, targets[stem]), args.rain_type, source))
    return records


def main(argv=None) -> int:
    args = parse_args(argv)
    bad = [item for item in args.policy if '=' not in item]
    if bad:
        raise SystemExit(f'--policy {bad[0]}: expected CASE=ACTION, e.g. '
                         'corrupt=error')
    policy = dict(item.split('=', 1) for item in args.policy)
    records = collect_records(args)
    if not records:
        raise SystemExit('no pairs found')
    if args.verify:
        problems = verify_pairs(records, args.out, args.workers,
                                policy=policy)
        for key, problem in sorted(problems.items()):
            print(f'MISMATCH {key}: {problem}')
        print(f'verified {len(records) - len(problems)}/{len(records)} pairs '
              f'in {args.out}')
        return 1 if problems else 0
    try:
        info = pack_pairs(records, args.out, args.compress_level,
                          args.workers, policy=policy)
    except BadPairError as e:
        raise SystemExit(f'stopped: {e}\nPacked pairs are kept; the same '
                         'command resumes after the fix.') from None
    print(f'packed {info["num_pairs"]} pairs into {args.out} '
          f'(per type {info["per_type"]}, per source {info["per_source"]})')
    for key, reason in sorted(info['skipped'].items()):
        print(f'skipped {key}: {reason}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
