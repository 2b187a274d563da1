"""Safe (allowlisted ``weights_only``) and strict checkpoint loading, through
the module, the inferencer, tools/infer.py, tools/test.py and resume."""
import datetime
import os
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch

from conftest import DEMO_CONFIG, REPO_ROOT, import_tool, tiny_config
from unirain_mm.apis import UniRainInferencer
from unirain_mm.checkpoint import (CheckpointError, load_checkpoint_file,
                                   load_model_weights)

OPEN_GLOBAL = r'global io\.open'


class _CreatesFile:
    """Unpickles as ``open(path, 'w')``: code run by loading a checkpoint."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


@pytest.fixture
def evil(tmp_path):
    """(checkpoint path, marker path): unpickling it creates the marker."""
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': {'x': _CreatesFile(marker)}}, path)
    return path, marker


def _build(cfg):
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def demo_ckpt(tmp_path_factory):
    """(dim-8 config path, checkpoint of the dim-16 demo model, its state).

    The config is the demo config with another width, so the checkpoint
    does not fit it but fits configs/unirain/unirain_demo_cpu.py.
    """
    from mmengine.config import Config
    root = tmp_path_factory.mktemp('demo_ckpt')
    cfg = Config.fromfile(DEMO_CONFIG)
    assert cfg.model.generator.dim == 16
    torch.manual_seed(0)
    state = _build(cfg).state_dict()
    ckpt = str(root / 'demo16.pth')
    torch.save({'state_dict': state}, ckpt)
    cfg.model.generator.update(dim=8)
    cfg_path = str(root / 'dim8.py')
    cfg.dump(cfg_path)
    return cfg_path, ckpt, state


def test_the_crafted_checkpoint_does_run_code_when_unsafe(evil):
    """The fixture is real: ``--unsafe-load`` runs its pickle."""
    path, marker = evil
    with pytest.warns(UserWarning, match='trusted files only'):
        load_checkpoint_file(path, unsafe=True)
    assert osp.isfile(marker)


def test_refused_before_running(evil):
    path, marker = evil
    with pytest.raises(CheckpointError, match=OPEN_GLOBAL) as info:
        load_checkpoint_file(path)
    assert path in str(info.value) and '--unsafe-load' in str(info.value)
    assert not osp.exists(marker)


def test_mmengine_loader_is_safe_and_reads_mmengine_types(evil, tmp_path):
    """mmengine's CheckpointLoader (resume, load_from, load_checkpoint)."""
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader
    path, marker = evil
    with pytest.raises(CheckpointError, match=OPEN_GLOBAL):
        CheckpointLoader.load_checkpoint(path)
    assert not osp.exists(marker)
    buf = HistoryBuffer()
    for v in (1.0, 3.0):
        buf.update(v)
    ok = str(tmp_path / 'ok.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(2)),
                    message_hub=dict(loss=buf),
                    meta=dict(seed=np.int64(7), lr=np.float32(0.5),
                              arr=np.arange(3, dtype=np.uint8))), ok)
    loaded = CheckpointLoader.load_checkpoint(ok, map_location='cpu')
    assert loaded['message_hub']['loss'].mean() == 2.0
    assert loaded['message_hub']['loss'].max() == 3.0
    assert loaded['meta']['seed'] == 7 and loaded['meta']['lr'] == 0.5
    assert loaded['meta']['arr'].tolist() == [0, 1, 2]
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))


def test_object_arrays_and_other_getattr_are_refused(tmp_path):
    from mmengine.logging import HistoryBuffer
    path = str(tmp_path / 'obj.pth')
    torch.save({'a': np.array([None, 1], dtype=object)}, path)
    with pytest.raises(CheckpointError, match='obj.pth'):
        load_checkpoint_file(path)

    class _Getattr:

        def __reduce__(self):
            return getattr, (HistoryBuffer, 'register_statistics')

    path = str(tmp_path / 'getattr.pth')
    torch.save({'a': _Getattr()}, path)
    with pytest.raises(CheckpointError, match='register_statistics'):
        load_checkpoint_file(path)


def test_inferencer_refuses_and_opts_out(evil, demo_ckpt, tmp_path):
    path, marker = evil
    with pytest.raises(CheckpointError, match=OPEN_GLOBAL):
        UniRainInferencer(DEMO_CONFIG, path)
    assert not osp.exists(marker)
    # an old file with a global outside the allowlist loads when opted in
    _, ckpt, state = demo_ckpt
    old = str(tmp_path / 'old.pth')
    torch.save({'state_dict': state,
                'meta': {'time': datetime.date(2024, 1, 2)}}, old)
    with pytest.raises(CheckpointError, match='datetime.date'):
        UniRainInferencer(DEMO_CONFIG, old)
    with pytest.warns(UserWarning, match='trusted files only'):
        inf = UniRainInferencer(DEMO_CONFIG, old, unsafe_load=True)
    for key, value in inf.model.state_dict().items():
        torch.testing.assert_close(value, state[key], msg=key)


def test_infer_tool_exits_nonzero_without_running_code(evil, tmp_path):
    path, marker = evil
    image = str(tmp_path / 'in.png')
    import cv2
    cv2.imwrite(image, np.zeros((8, 8, 3), np.uint8))
    out_dir = str(tmp_path / 'out')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'infer.py'),
         DEMO_CONFIG, path, image, '--out-dir', out_dir],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    assert 'evil.pth' in proc.stderr and 'io.open' in proc.stderr
    assert not osp.exists(marker) and not osp.exists(out_dir)


def test_strict_mismatch_names_keys_and_the_matching_config(demo_ckpt,
                                                            tmp_path):
    cfg_path, ckpt, _ = demo_ckpt
    infer = import_tool('infer')
    image = str(tmp_path / 'in.png')
    import cv2
    cv2.imwrite(image, np.zeros((8, 8, 3), np.uint8))
    out_dir = tmp_path / 'out'
    with pytest.raises(SystemExit) as info:
        infer.main([cfg_path, ckpt, image, '--out-dir', str(out_dir)])
    msg = str(info.value.code)
    assert 'demo16.pth does not fit the model' in msg
    assert 'of another shape (generator.embed.weight: checkpoint ' \
        '(16, 3, 3, 3), model (8, 3, 3, 3)' in msg
    assert 'missing' not in msg and 'unexpected' not in msg
    assert 'has dim 16: did you mean ' \
        f'{osp.relpath(DEMO_CONFIG)}?' in msg
    assert not out_dir.exists()


def test_missing_unexpected_counts_and_empty_state_dict(demo_ckpt,
                                                        tmp_path):
    from mmengine.config import Config
    _, _, state = demo_ckpt
    model = _build(Config.fromfile(DEMO_CONFIG))
    part = dict(state)
    for key in list(part)[-2:]:
        del part[key]
    part['generator.extra'] = torch.zeros(1)
    path = str(tmp_path / 'part.pth')
    torch.save({'state_dict': part}, path)
    with pytest.raises(CheckpointError,
                       match=r'2 missing .*; 1 unexpected '
                       r'\(generator.extra\)\.'):
        load_model_weights(model, path)
    # lenient (fine-tuning): the fitting keys load, one warning
    before = {k: v.clone() for k, v in model.state_dict().items()}
    changed = {k: v + 1 if v.is_floating_point() else v
               for k, v in part.items() if k in before}
    torch.save({'state_dict': {**changed, 'generator.extra': torch.ones(1)}},
               path)
    with pytest.warns(UserWarning, match='Loading the keys that fit'):
        load_model_weights(model, path, strict=False)
    after = model.state_dict()
    for k, v in changed.items():
        torch.testing.assert_close(after[k], v, msg=k)
    for k in set(before) - set(changed):
        torch.testing.assert_close(after[k], before[k], msg=k)

    empty = str(tmp_path / 'empty.pth')
    torch.save({'state_dict': {}}, empty)
    with pytest.raises(CheckpointError, match='empty.pth has an empty '
                       'state_dict'):
        load_model_weights(model, empty)


def test_test_tool_refuses_and_is_strict(pair_tree, evil, demo_ckpt,
                                         tmp_path):
    path, marker = evil
    cfg = tiny_config(pair_tree, str(tmp_path / 'wd'))
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    test_tool = import_tool('test')
    out = str(tmp_path / 'res')
    with pytest.raises(SystemExit) as info:
        test_tool.main([cfg_path, path, '--out', out])
    assert 'evil.pth' in str(info.value.code)
    assert not osp.exists(marker)
    _, ckpt, _ = demo_ckpt  # dim 16 against the tiny dim-8 model
    with pytest.raises(SystemExit) as info:
        test_tool.main([cfg_path, ckpt, '--out', out,
                        '--save-dir', str(tmp_path / 'saved')])
    assert 'demo16.pth does not fit the model' in str(info.value.code)
    assert not osp.exists(out + '.json')
    assert not osp.exists(tmp_path / 'saved')


def test_resume_refuses_the_crafted_checkpoint(pair_tree, evil, tmp_path):
    path, marker = evil
    cfg = tiny_config(pair_tree, str(tmp_path / 'wd'), max_iters=1)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    train_tool = import_tool('train')
    with pytest.raises(SystemExit) as info:
        train_tool.main([cfg_path, '--resume', path])
    assert 'evil.pth' in str(info.value.code)
    assert 'global io.open' in str(info.value.code)
    assert not osp.exists(marker)
