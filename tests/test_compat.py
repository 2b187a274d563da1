"""The import-time shims and the CPU distributed set-up."""
import sys

import pytest
import torch
from mmengine.config import Config


def test_mmagic_models_import_with_the_shims():
    import mmcv.ops  # noqa: F401  (needs the mmcv._ext stub)
    import mmagic.models  # noqa: F401
    stub = sys.modules['mmcv._ext']
    with pytest.raises(RuntimeError, match='mmcv-lite has no compiled ops'):
        stub.deform_conv_forward()


def test_checkpoints_with_python_objects_load(tmp_path):
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'meta': {'buf': HistoryBuffer([1.0, 2.0], [1, 1])}}, path)
    loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert loaded['meta']['buf'].current() == 2.0
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))


def test_cpu_distributed_wrapper_config(monkeypatch):
    from unirain_mm import compat
    calls = []
    # the branch of a machine without CUDA, on any machine
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.distributed, 'is_initialized', lambda: False)
    monkeypatch.setattr(torch.distributed, 'init_process_group',
                        lambda backend: calls.append(backend))
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')),
                      find_unused_parameters=True))
    compat.init_cpu_distributed(cfg)
    assert calls == ['gloo']
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model_wrapper_cfg.find_unused_parameters is True


def test_cpu_distributed_leaves_cuda_hosts_alone(monkeypatch):
    from unirain_mm import compat
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.distributed, 'init_process_group',
                        lambda **kw: pytest.fail('no process group here'))
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    compat.init_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg
