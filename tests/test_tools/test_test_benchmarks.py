"""tools/test.py on named benchmarks: tables in both conventions, saved
images and grids, clear errors."""
import csv
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint

from conftest import import_tool, tiny_config, write_pair_tree


@pytest.fixture(scope='module')
def test_tool():
    return import_tool('test')


@pytest.fixture(scope='module')
def setup(pair_tree, tmp_path_factory):
    """A data root with the type splits and a converted Rain100H, a tiny
    config and an untrained checkpoint."""
    tmp = tmp_path_factory.mktemp('bench')
    root = tmp / 'data'
    shutil.copytree(osp.join(pair_tree, 'test'), root / 'test')
    shutil.copytree(root / 'test' / 'NRS', root / 'Rain100H' / 'DRS')
    cfg = tiny_config(str(root), str(tmp / 'work'))
    cfg_path = str(tmp / 'cfg.py')
    cfg.dump(cfg_path)
    init_default_scope('mmagic')
    ckpt = str(tmp / 'model.pth')
    save_checkpoint({'state_dict': MODELS.build(cfg.model).state_dict()},
                    ckpt)
    return cfg_path, ckpt, str(root), tmp


def test_benchmarks_table_and_saved_images(test_tool, setup, capsys):
    cfg_path, ckpt, root, tmp = setup
    out, save = str(tmp / 'res'), str(tmp / 'restored')
    metrics = test_tool.main([
        cfg_path, ckpt, '--benchmarks', 'Rain100H', 'DRD', '--data-root',
        root, '--out', out, '--save-dir', save, '--save-grid'
    ])
    for name in ('PSNR-Y', 'SSIM-Y', 'PSNR-RGB', 'InputPSNR-Y',
                 'InputSSIM-Y', 'InputPSNR-RGB'):
        for bench in ('Rain100H', 'DRD', 'Avg'):
            assert f'{bench}/{name}' in metrics
    # offline: no LPIPS weights, so no LPIPS value, not a made-up one
    assert not any(k.endswith('/LPIPS') for k in metrics)
    with open(out + '.json') as f:
        assert json.load(f) == pytest.approx(metrics)
    rows = list(csv.reader(open(out + '.csv')))
    assert [r[0] for r in rows[1:]] == ['Rain100H', 'DRD', 'Avg']
    printed = capsys.readouterr().out
    assert '| Rain100H |' in printed and "authors' PSNR" in printed
    assert 'LPIPS not reported' in printed

    names = sorted(os.listdir(osp.join(root, 'Rain100H', 'DRS', 'input')))
    assert sorted(os.listdir(osp.join(save, 'Rain100H'))) == names
    assert sorted(os.listdir(osp.join(save, 'grids', 'DRD'))) == sorted(
        os.listdir(osp.join(root, 'test', 'DRD', 'input')))
    restored = cv2.imread(osp.join(save, 'Rain100H', names[0]))
    grid = cv2.imread(osp.join(save, 'grids', 'Rain100H', names[0]))
    assert restored.shape == (32, 32, 3)
    assert grid.shape[1] == 3 * 32 + 2 * 4 and grid.shape[0] > 32
    # the panels are the input and target files, colours included
    header = grid.shape[0] - 32
    for col, sub in ((0, 'input'), (2, 'target')):
        original = cv2.imread(osp.join(root, 'Rain100H', 'DRS', sub,
                                       names[0]))
        panel = grid[header:, col * 36:col * 36 + 32]
        assert (panel == original).all(), sub


def test_group_skips_unconverted_benchmarks(test_tool, setup):
    cfg_path, ckpt, root, tmp = setup
    metrics = test_tool.main([
        cfg_path, ckpt, '--cfg-options', 'test_benchmarks=[classic]',
        'data_root=' + root, '--out', str(tmp / 'classic')
    ])
    assert {k.split('/')[0] for k in metrics} == {'Rain100H'}


def test_authors_protocol_crops_and_reports_their_metrics(
        test_tool, setup, tmp_path, capsys):
    from skimage.metrics import structural_similarity
    cfg_path, ckpt, _, _ = setup
    root = write_pair_tree(str(tmp_path / 'odd'), num_train=0, num_test=1,
                           size=37)
    save = str(tmp_path / 'restored')
    metrics = test_tool.main([
        cfg_path, ckpt, '--protocol', 'authors', '--benchmarks', 'DRS',
        'NRD', '--data-root', root, '--out', str(tmp_path / 'res'),
        '--save-dir', save
    ])
    for bench in ('DRS', 'NRD', 'Avg'):
        for name in ('PSNR-RGB', 'SSIM-pyiqa', 'InputPSNR-RGB',
                     'InputSSIM-pyiqa'):
            assert f'{bench}/{name}' in metrics
    assert not any(k.endswith(('-Y', '/LPIPS')) for k in metrics)
    printed = capsys.readouterr().out
    assert "SSIM-pyiqa: pyiqa's default ssim" in printed
    assert 'multiple of 16' in printed
    # 37 = 32 + 5: rows and columns 2..33 of input and target are scored;
    # the rainy input's SSIM-pyiqa, recomputed with scikit-image on the
    # rounded luma 0.299 R + 0.587 G + 0.114 B, tells other crops apart
    name = os.listdir(osp.join(root, 'test', 'DRS', 'input'))[0]
    assert cv2.imread(osp.join(save, 'DRS', name)).shape == (32, 32, 3)
    rainy, clean = (np.round(cv2.imread(osp.join(
        root, 'test', 'DRS', sub, name))[2:34, 2:34] @ [0.114, 0.587, 0.299])
        for sub in ('input', 'target'))
    _, ssim_map = structural_similarity(
        rainy, clean, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=255, full=True)
    assert metrics['DRS/InputSSIM-pyiqa'] == pytest.approx(
        np.clip(ssim_map[5:-5, 5:-5], 0, None).mean(), abs=1e-3)


def test_clear_errors(test_tool, setup):
    cfg_path, ckpt, root, _ = setup
    with pytest.raises(SystemExit, match=r'Test100.*not found.*'
                       'dataset_converters'):
        test_tool.main([cfg_path, ckpt, '--benchmarks', 'Test100',
                        '--data-root', root])
    with pytest.raises(SystemExit, match='unknown benchmark'):
        test_tool.main([cfg_path, ckpt, '--benchmarks', 'Rain100X'])
    with pytest.raises(SystemExit, match='--save-grid needs --save-dir'):
        test_tool.main([cfg_path, ckpt, '--save-grid'])
