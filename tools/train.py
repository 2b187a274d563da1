"""Train a UniRain-MM model from an OpenMMLab config.

Examples:
    python tools/train.py configs/unirain/unirain_demo_cpu.py
    python tools/train.py configs/unirain/unirain_all.py --amp --resume
    bash tools/dist_train.sh configs/unirain/unirain_all.py 4
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from unirain_mm import register_all_modules  # noqa: E402

register_all_modules()  # shims, then mmagic's and our registries
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from unirain_mm.checkpoint import (CheckpointError,  # noqa: E402
                                   register_checkpoint_loader)
from unirain_mm.tool_utils import add_common_args, load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a UniRain-MM model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from a checkpoint; without a path, from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision (needs a GPU)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='read the resumed or loaded checkpoint with weights_only=False '
        '(old files the safe loader refuses): runs any code the file holds, '
        'for trusted files only')
    add_common_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """Merge the command line into the config."""
    cfg = load_config(args)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA GPU; none is available')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    # The Runner reads checkpoints through mmengine's CheckpointLoader.
    register_checkpoint_loader(unsafe=args.unsafe_load)
    try:
        Runner.from_cfg(cfg).train()
    except CheckpointError as e:
        raise SystemExit(str(e))


if __name__ == '__main__':
    from unirain_mm.allocator import keep_freed_memory
    keep_freed_memory()  # unirain_mm/allocator.py: why, and how to opt out
    main()
