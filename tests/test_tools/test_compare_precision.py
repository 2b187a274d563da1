"""Tests of tools/analysis/compare_precision.py (tile sides and precisions)."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from conftest import import_tool, psnr_y


def test_tiles_and_whole_images(tiny_model, tmp_path):
    import cv2
    cfg_path, ckpt, data, model = tiny_model
    tool = import_tool('analysis/compare_precision')
    out = str(tmp_path / 'tiles')
    result = tool.main([
        cfg_path, ckpt, '--data-root', data, '--dtypes', 'fp32', '--tiles',
        '64', '0', '--out', out
    ])
    assert list(result) == ['input', 'fp32 tile 64', 'fp32 whole']
    assert [r['tile'] for r in result.values()] == [None, 64, 0]
    with open(out + '.json') as f:
        assert json.load(f) == json.loads(json.dumps(result))
    table = open(out + '.md').read()
    assert 'max \\|PSNR-Y - fp32 tile 64\\| (dB)' in table
    assert 'fp32 whole' in table

    # the input row and the whole-image row, recomputed without the tool:
    # one forward of the model on each whole image
    code = 'DRS'
    names = ['drs_test_000.png', 'drs_test_001.png']
    inputs, outputs = [], []
    for name in names:
        bgr = cv2.imread(osp.join(data, 'test', code, 'input', name))
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        target = cv2.imread(osp.join(data, 'test', code, 'target',
                                     name))[..., ::-1]
        x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            y = model.generator(x).clamp(0, 1)
        restored = (y[0].permute(1, 2, 0).numpy() * 255).round()
        inputs.append(psnr_y(rgb, target))
        outputs.append(psnr_y(restored, target))
    assert result['input']['psnr_y'][code] == pytest.approx(
        np.mean(inputs), abs=1e-6)
    assert result['fp32 whole']['psnr_y'][code] == pytest.approx(
        np.mean(outputs), abs=0.02)
    # 64 px tiles see less of the image than the whole: not the same result
    assert result['fp32 tile 64']['psnr_y'][code] != pytest.approx(
        result['fp32 whole']['psnr_y'][code], abs=1e-4)
    assert result['fp32 tile 64']['max_abs_delta'] is None
    assert result['fp32 whole']['max_abs_delta'] == pytest.approx(max(
        abs(result['fp32 whole']['psnr_y'][c] -
            result['fp32 tile 64']['psnr_y'][c])
        for c in result['input']['psnr_y']))


def test_bad_arguments_are_refused(tiny_model, capsys):
    cfg_path, ckpt, data, _ = tiny_model
    tool = import_tool('analysis/compare_precision')
    with pytest.raises(SystemExit):
        tool.parse_args([cfg_path, ckpt, '--tiles', '-1'])
    assert '--tiles must be >= 0' in capsys.readouterr().err
    # a config without weights would score a random model
    with pytest.raises(SystemExit):
        tool.parse_args([cfg_path, '--data-root', data])
    assert 'needs a checkpoint' in capsys.readouterr().err
    args = tool.parse_args([cfg_path, ckpt, '--tiles', '64', '0', '64'])
    assert args.tiles == [64, 0]
