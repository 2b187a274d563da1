"""Command-line plumbing shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from .compat import init_cpu_distributed
from .datasets.data_root import set_data_root


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--data-root``, ``--cfg-options``, ``--launcher``,
    ``--local-rank``."""
    parser.add_argument(
        '--work-dir', help='where logs, checkpoints and results go '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--data-root',
        metavar='DIR',
        help='read every dataset of the config (training LMDB, validation '
        'and test sets, benchmarks) from DIR instead of the config\'s '
        'data_root; the same as --cfg-options data_root=DIR')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=1000')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the common arguments.

    Work-dir priority: ``--work-dir`` > the config's ``work_dir`` >
    ``work_dirs/<config name>``. Data root: ``--data-root`` >
    ``--cfg-options data_root=`` > the config's ``data_root``; every
    dataset below the config's data root moves to it
    (:func:`~unirain_mm.datasets.data_root.set_data_root`) before the other
    ``--cfg-options`` apply, so an option naming one dataset's root still
    wins. With ``--launcher pytorch`` and no CUDA the process group is
    created with gloo (see :mod:`unirain_mm.compat`).
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    options = dict(args.cfg_options or {})
    option_root = options.pop('data_root', None)
    data_root = getattr(args, 'data_root', None) or option_root
    try:
        left = set_data_root(cfg, data_root)
    except ValueError as e:
        raise SystemExit(f'{args.config}: {e}')
    if data_root is not None:
        for where in left:
            print_log(f'{where} is not below the config\'s data root: it '
                      f'stays as it is, not moved to {data_root}',
                      logger='current', level=logging.WARNING)
    if options:
        cfg.merge_from_dict(options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.launcher == 'pytorch':
        init_cpu_distributed(cfg)
    return cfg
