"""The model zoo: names, hash-checked weights, publishing, and the
committed reference models."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT, import_tool
from unirain_mm import model_zoo
from unirain_mm.model_zoo import ModelZooError


def _fake_zoo(root, weights_bytes=b'weights'):
    os.makedirs(osp.join(root, 'configs', 'unirain'))
    os.makedirs(osp.join(root, 'checkpoints'))
    with open(osp.join(root, 'configs', 'unirain', 'm.py'), 'w') as f:
        f.write('model = dict()\n')
    path = osp.join(root, 'checkpoints', 'm.pth')
    with open(path, 'wb') as f:
        f.write(weights_bytes)
    named = osp.join(root, 'checkpoints',
                     f'm-{model_zoo.sha256_of(path)[:8]}.pth')
    os.replace(path, named)
    with open(osp.join(root, 'configs', 'unirain', 'metafile.yml'), 'w') as f:
        f.write('Models:\n- Name: My-Model\n  Config: configs/unirain/m.py\n'
                f'  Weights: checkpoints/{osp.basename(named)}\n')
    return named


def test_resolve_checks_the_hash(tmp_path):
    named = _fake_zoo(str(tmp_path))
    model = model_zoo.resolve('my-model', root=str(tmp_path))
    assert model.weights == named and model.config.endswith('m.py')
    assert model_zoo.resolve('other', root=str(tmp_path)) is None
    with open(named, 'ab') as f:  # a truncated / replaced file
        f.write(b'!')
    with pytest.raises(ModelZooError, match='corrupt or replaced'):
        model_zoo.resolve('my-model', root=str(tmp_path))
    os.remove(named)
    with pytest.raises(ModelZooError, match='not found'):
        model_zoo.resolve('my-model', root=str(tmp_path))


def test_weights_must_be_hash_named(tmp_path):
    path = tmp_path / 'plain.pth'
    path.write_bytes(b'x')
    with pytest.raises(ModelZooError, match='sha256'):
        model_zoo.check_weights(str(path))


def test_zoo_names_are_not_paths(tmp_path):
    assert model_zoo.is_zoo_name('unirain-s')
    assert not model_zoo.is_zoo_name('configs/unirain/unirain_all.py')
    assert not model_zoo.is_zoo_name('model.onnx')
    assert not model_zoo.is_zoo_name(str(tmp_path))


def test_publish_keeps_weights_only_and_names_by_hash(tmp_path):
    from unirain_mm.checkpoint import load_checkpoint_file
    state = {'w': torch.arange(6.).view(2, 3)}
    torch.save(dict(meta=dict(iter=7, seed=1, cfg='big text'),
                    state_dict=state, optimizer={'lr': 1.0},
                    message_hub=dict(log_scalars={'loss': [0.1]})),
               tmp_path / 'iter_7.pth')
    tool = import_tool('misc/publish_model')
    out = tool.main([str(tmp_path / 'iter_7.pth'), str(tmp_path / 'pub')])
    model_zoo.check_weights(out)  # the name matches the content
    ckpt = load_checkpoint_file(out, 'cpu', False)  # loads safely
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta']['iter'] == 7 and 'cfg' not in ckpt['meta']
    assert torch.equal(ckpt['state_dict']['w'], state['w'])
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['iter_7.pth', osp.basename(out)])  # nothing else left behind
    with pytest.raises(SystemExit, match='no state_dict'):
        torch.save({'meta': {}}, tmp_path / 'empty.pth')
        tool.main([str(tmp_path / 'empty.pth'), str(tmp_path / 'x')])


ZOO = model_zoo.list_models()


@pytest.mark.parametrize('name, rain_types', [
    ('unirain-s', ('DRS', 'DRD', 'NRS', 'NRD')),
    ('restormer-s', ('DRS', 'DRD', 'NRS', 'NRD')),
])
def test_committed_zoo_model_loads_and_derains(name, rain_types):
    """The committed weights verify, load strictly into their config, and
    remove synthetic rain from a photo that training never saw (the demo's
    held-out test photo): over 1 dB gained per type, mean of 2 samples."""
    from unirain_mm.apis import UniRainInferencer
    from unirain_mm.datasets.demo_data import clean_photos
    from unirain_mm.datasets.rain_synthesis import synthesize
    assert name in ZOO, f'{name} missing from the metafiles'
    inferencer = UniRainInferencer(name)
    clean = clean_photos()['chelsea'][:256, :256]
    rng = np.random.default_rng(0)
    # A random-initialised UniRain-S loses ~14 dB here.
    for rain_type in rain_types:
        gains = []
        for _ in range(2):
            rainy, target = synthesize(clean, rain_type, rng)
            gains.append(_psnr(inferencer(rainy), target) -
                         _psnr(rainy, target))
        assert np.mean(gains) > 1.0, (rain_type, gains)


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255.0**2 / mse)


def test_inferencer_refuses_unknown_names_and_extra_checkpoints():
    from unirain_mm.apis import UniRainInferencer
    with pytest.raises(ModelZooError, match='neither a file nor'):
        UniRainInferencer('no-such-model')
    with pytest.raises(ModelZooError, match='brings its weights'):
        UniRainInferencer('unirain-s', 'other.pth')


def test_cli_derains_with_a_zoo_name(tmp_path):
    import cv2
    from unirain_mm.datasets.demo_data import clean_photos
    img = clean_photos()['coffee'][:96, :128]
    cv2.imwrite(str(tmp_path / 'photo.jpg'), img[..., ::-1])
    tool = osp.join(REPO_ROOT, 'tools', 'infer.py')
    run = subprocess.run(
        [sys.executable, tool, 'unirain-s', str(tmp_path / 'photo.jpg'),
         '--out-dir', str(tmp_path / 'out')], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = cv2.imread(str(tmp_path / 'out' / 'photo.png'))
    assert out.shape == (96, 128, 3)
    run = subprocess.run(
        [sys.executable, tool, 'no-such-model', str(tmp_path / 'photo.jpg'),
         '--out-dir', str(tmp_path / 'bad')], capture_output=True, text=True)
    assert run.returncode != 0 and 'neither a file nor' in run.stderr
    assert not (tmp_path / 'bad').exists()
    # a missing checkpoint with no extension is still a missing file
    config = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_s_synth.py')
    run = subprocess.run(
        [sys.executable, tool, config, 'iter_1800', str(tmp_path /
                                                       'photo.jpg'),
         '--out-dir', str(tmp_path / 'bad')], capture_output=True, text=True)
    assert run.returncode != 0 and 'not found: iter_1800' in run.stderr
    assert not (tmp_path / 'bad').exists()
