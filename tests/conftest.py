"""Shared fixtures: a tiny four-type dataset and a tiny CPU training config.

Every cache a test could read or fill (torch hub weights, Hugging Face,
matplotlib, XDG) points into one temporary folder for the session, set
before torch is imported: the suite behaves the same on a machine whose
caches hold model weights (e.g. LPIPS's AlexNet) as on a fresh one, and
writes nothing into the user's caches.
"""
import os
import os.path as osp
import shutil
import socket
import tempfile
from typing import Optional

import numpy as np
import pytest

_CACHE_ROOT = tempfile.mkdtemp(prefix='unirain-test-cache-')
for _var, _sub in (('TORCH_HOME', 'torch'), ('HF_HOME', 'huggingface'),
                   ('XDG_CACHE_HOME', 'xdg'), ('MPLCONFIGDIR', 'matplotlib')):
    os.environ[_var] = osp.join(_CACHE_ROOT, _sub)
os.environ['HF_HUB_OFFLINE'] = '1'
os.environ['TRANSFORMERS_OFFLINE'] = '1'

import unirain_mm  # noqa: E402

unirain_mm.register_all_modules()  # shims, then the registries
from unirain_mm.rain_types import RAIN_TYPES  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'unirain',
                       'unirain_demo_cpu.py')


def write_pair_tree(root: str, num_train: int = 4, num_test: int = 2,
                    size: int = 32, seed: int = 0) -> str:
    """Write ``<root>/{train,val,test}/<type>/{input,target}`` with rain.

    Targets are smooth random images; inputs add bright diagonal streaks
    whose brightness depends on the type, so a model can learn the task.
    """
    import cv2
    rng = np.random.default_rng(seed)
    for split, num in (('train', num_train), ('val', num_test),
                       ('test', num_test)):
        for type_id, rain_type in enumerate(RAIN_TYPES):
            for sub in ('input', 'target'):
                os.makedirs(osp.join(root, split, rain_type, sub),
                            exist_ok=True)
            for i in range(num):
                small = rng.uniform(40, 200, (4, 4, 3)).astype(np.float32)
                clean = cv2.resize(small, (size, size),
                                   interpolation=cv2.INTER_CUBIC)
                streaks = np.zeros((size, size), np.float32)
                for _ in range(size // 4):
                    x, y = rng.integers(0, size, 2)
                    cv2.line(streaks, (int(x), int(y)),
                             (int(x) + 3, int(y) + 8), 1.0, 1)
                rainy = clean + (30 + 15 * type_id) * streaks[..., None]
                name = f'{rain_type.lower()}_{split}_{i:03d}.png'
                cv2.imwrite(osp.join(root, split, rain_type, 'input', name),
                            np.clip(rainy, 0, 255).astype(np.uint8))
                cv2.imwrite(osp.join(root, split, rain_type, 'target', name),
                            np.clip(clean, 0, 255).astype(np.uint8))
    return root


def import_tool(name: str):
    """Import the script ``tools/<name>.py`` as a module (``name`` may hold a
    sub-folder, e.g. ``'analysis/benchmark_speed'``)."""
    import importlib
    import sys
    folder, module = osp.split(osp.join(REPO_ROOT, 'tools', name))
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.pop(0)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='session')
def pair_tree(tmp_path_factory) -> str:
    """A tiny four-type dataset shared by the tests that only read it."""
    return write_pair_tree(str(tmp_path_factory.mktemp('pairs')))


def tiny_config(data_root: str, work_dir: str, max_iters: int = 6,
                val_interval: int = 3, num_workers: int = 0,
                seed: Optional[int] = 0):
    """The demo config shrunk to seconds on a CPU, reading ``data_root``."""
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.work_dir = work_dir
    cfg.model.generator.update(
        dim=8, num_blocks=(1, 1, 1, 1), num_heads=(1, 1, 1, 1))
    cfg.train_dataloader.update(
        batch_size=4, num_workers=num_workers,
        persistent_workers=num_workers > 0)
    pipeline = cfg.train_dataloader.dataset.pipeline
    for step in pipeline:
        if step.type == 'PairedRandomCrop':
            step.gt_patch_size = 32
        elif step.type == 'LoadRainPair':
            step.min_size = 32
    cfg.train_dataloader.dataset = dict(
        type='RainTypeDataset', data_root=data_root, split='train',
        pipeline=pipeline)
    for loader in cfg.val_dataloader + cfg.test_dataloader:
        loader.dataset.data_root = data_root
    cfg.train_cfg.update(max_iters=max_iters, val_interval=val_interval)
    cfg.param_scheduler.update(end=max_iters, T_max=max_iters)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=val_interval,
                                        max_keep_ckpts=-1)
    cfg.randomness = dict(seed=seed, diff_rank_seed=True)
    return cfg


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory) -> tuple:
    """(config path, checkpoint, data root, model in eval mode): a random
    dim-8 UniRain and 96x96 pairs, large enough for 64 px tiles."""
    import torch
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    root = tmp_path_factory.mktemp('tiny_model')
    data = write_pair_tree(str(root / 'data'), num_train=1, num_test=2,
                           size=96)
    cfg = tiny_config(data, str(root / 'work'))
    cfg_path = str(root / 'tiny.py')
    cfg.dump(cfg_path)
    init_default_scope('mmagic')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(root / 'tiny.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return cfg_path, ckpt, data, model.eval()


def luma(img: np.ndarray) -> np.ndarray:
    """BT.601 studio-range luma (16..235) of an RGB image, as float64,
    computed here independently of the code under test."""
    coef = np.array([65.481, 128.553, 24.966]) / 255.0
    return img.astype(np.float64) @ coef + 16.0


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR on :func:`luma`, no border crop."""
    return float(10 * np.log10(255.0**2 / np.mean((luma(a) - luma(b))**2)))


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE_ROOT, ignore_errors=True)
