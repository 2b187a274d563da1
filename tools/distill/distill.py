"""Retrieval-augmented dataset distillation from an OpenMMLab config.

Subcommands:
    build-kb   encode the knowledge-base photos it lacks, update the index
    run        judge the queries (resumable, sharded under torchrun), then
               merge the manifest, pack the kept pairs and write the report
    all        build-kb, then run
    finalize   merge, pack and report only (e.g. after separate shard jobs)
    report     a report from any manifest

Examples:
    python tools/distill/distill.py all configs/distill/distill_demo_offline.py
    torchrun --nproc_per_node 8 tools/distill/distill.py run \\
        configs/distill/distill_real_vlm.py --launcher pytorch
    python tools/distill/distill.py report work_dirs/x/manifest.jsonl out/
"""
import argparse
import os.path as osp
import sys
from datetime import timedelta

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
import torch.distributed as dist  # noqa: E402
from mmengine.dist import barrier, get_dist_info  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from unirain_mm.distill import (Distiller, build_knowledge_base,  # noqa: E402
                                finalize)
from unirain_mm.distill.report import make_report  # noqa: E402
from unirain_mm.tool_utils import add_common_args, load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='RAG-based dataset distillation',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('build-kb', 'run', 'all', 'finalize'):
        p = sub.add_parser(name)
        p.add_argument('config', help='distillation config file')
        add_common_args(p)
        p.add_argument('--dist-timeout', type=int, default=24 * 3600,
                       help='seconds a rank waits for the others at the end')
        if name in ('run', 'all'):
            p.add_argument('--redo-abstained', action='store_true',
                           help='judge again the queries whose decision was '
                           '"abstain" (e.g. after a judge server failed)')
        if name in ('run', 'all', 'finalize'):
            p.add_argument('--no-pack', action='store_true',
                           help='skip packing the kept pairs into LMDB')
            p.add_argument('--no-report', action='store_true',
                           help='skip the report')
    p = sub.add_parser('report')
    p.add_argument('manifest', help='manifest.jsonl')
    p.add_argument('out_dir', help='folder for report.md and charts')
    p.add_argument('--num-examples', type=int, default=6)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.command == 'report':
        path = make_report(args.manifest, args.out_dir, args.num_examples)
        print(f'report: {path}')
        return dict(report=path)
    if args.launcher != 'none' and not dist.is_initialized():
        # gloo is enough: ranks only meet at the end, where a long timeout
        # lets the slowest shard finish.
        dist.init_process_group(
            'gloo', timeout=timedelta(seconds=args.dist_timeout))
    cfg = load_config(args)
    rank, world_size = get_dist_info()
    if not MMLogger.check_instance_created('unirain_distill'):
        MMLogger.get_instance('unirain_distill', log_level='INFO')
    out = {}
    if args.command in ('build-kb', 'all'):
        if rank == 0:
            build_knowledge_base(cfg)
        barrier()
    if args.command in ('run', 'all'):
        # Rank 0 first: it builds a missing index that the others then read.
        distiller = Distiller(cfg) if rank == 0 else None
        barrier()
        distiller = distiller or Distiller(cfg)
        distiller.run(rank, world_size, args.redo_abstained,
                      progress=rank == 0)
        barrier()
    if args.command in ('run', 'all', 'finalize') and rank == 0:
        out = finalize(cfg, pack=not args.no_pack, report=not args.no_report)
    return out


if __name__ == '__main__':
    main()
