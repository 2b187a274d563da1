"""The shims (applied by register_all_modules) and the CPU distributed
set-up."""
import ast
import glob
import json
import os.path as osp
import subprocess
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


def _load_ext_names(ops_dir: str) -> set:
    """The names the op modules of ``mmcv.ops`` pass to
    ``ext_loader.load_ext('_ext', [...])``, read from their source."""
    names = set()
    for path in glob.glob(osp.join(ops_dir, '*.py')):
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call)
                    and getattr(node.func, 'attr', None) == 'load_ext'
                    and len(node.args) == 2):
                names.update(ast.literal_eval(node.args[1]))
    return names


def test_mmcv_ext_stub_serves_only_what_mmcv_ops_asks_for():
    import mmcv
    from unirain_mm import compat
    stub = sys.modules['mmcv._ext']
    if not isinstance(stub, compat._MmcvExtStub):
        pytest.skip('mmcv with compiled ops: no stub')
    ops_dir = osp.join(osp.dirname(mmcv.__file__), 'ops')
    assert compat._MMCV_EXT_NAMES == _load_ext_names(ops_dir)
    with pytest.raises(AttributeError, match='not an op'):
        stub.no_such_op
    with pytest.raises(AttributeError):
        stub.__wrapped__


def test_shims_work_whatever_was_imported_first():
    """torchvision and mmcv.ops imported (and failing, on a CPU torch)
    before register_all_modules: afterwards both import and models build."""
    code = """
import json, sys
failed = []
for name in ('torchvision', 'mmcv.ops'):
    try:
        __import__(name)
    except Exception as e:
        failed.append(name)
import unirain_mm
unirain_mm.register_all_modules()
import torchvision, mmcv.ops, mmagic.models
from mmagic.registry import MODELS
net = MODELS.build(dict(type='UniRainNet', dim=8, num_blocks=(1, 1, 1, 1),
                        num_refinement_blocks=1, num_heads=(1, 1, 1, 1),
                        encoder_moe_blocks=(1, 1, 1),
                        decoder_moe_blocks=(1, 1, 1)))
print(json.dumps(dict(failed=failed, net=type(net).__name__)))
"""
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out['net'] == 'UniRainNet'


def test_torchvision_shim_is_a_no_op_once_the_ops_exist():
    import torch
    import torchvision  # noqa: F401
    from unirain_mm import compat
    torch.ops.torchvision.nms  # defined (by the wheel or the shim)
    assert compat.patch_torchvision_ops() is None


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
