"""Tests of tools/analysis/per_image.py (per-image gain, bias and route)."""
import json
import os.path as osp

import cv2
import pytest
import torch

from conftest import import_tool, luma, psnr_y


def test_records_match_an_independent_forward(tiny_model, tmp_path):
    cfg_path, ckpt, data, model = tiny_model
    tool = import_tool('analysis/per_image')
    out = str(tmp_path / 'per_image')
    records = tool.main([cfg_path, ckpt, '--data-root', data, '--types',
                         'DRS', 'NRD', '--out', out])
    assert [(r['type'], r['name']) for r in records] == [
        ('DRS', 'drs_test_000.png'), ('DRS', 'drs_test_001.png'),
        ('NRD', 'nrd_test_000.png'), ('NRD', 'nrd_test_001.png')]
    with open(out + '.json') as f:
        assert json.load(f) == json.loads(json.dumps(records))
    assert 'drs_test_001.png' in open(out + '.md').read()

    # recomputed without the tool: one forward of the model per whole image
    num_layers = len(model.generator.compute_routes(
        torch.zeros(1, 3, 32, 32)))
    for record in records:
        folder = osp.join(data, 'test', record['type'])
        rgb = cv2.imread(osp.join(folder, 'input',
                                  record['name']))[..., ::-1].copy()
        target = cv2.imread(osp.join(folder, 'target',
                                     record['name']))[..., ::-1]
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            restored = (model.generator(x).clamp(0, 1)[0].permute(1, 2, 0)
                        .numpy() * 255).round()
            probs = model.generator.compute_routes(x)
        assert record['input_psnr_y'] == pytest.approx(psnr_y(rgb, target),
                                                       abs=1e-6)
        assert record['psnr_y'] == pytest.approx(psnr_y(restored, target),
                                                 abs=0.02)
        assert record['gain'] == pytest.approx(
            record['psnr_y'] - record['input_psnr_y'])
        # the streaks of write_pair_tree only brighten the input
        assert record['input_bias'] == pytest.approx(
            luma(rgb).mean() - luma(target).mean(), abs=0.05)
        assert record['input_bias'] > 0
        assert record['bias'] == pytest.approx(
            luma(restored).mean() - luma(target).mean(), abs=0.05)
        assert len(record['route']) == num_layers
        assert record['route'] == ''.join(
            str(int(p[0].argmax())) for p in probs)


def test_a_config_needs_a_checkpoint(tiny_model, capsys):
    cfg_path, _, data, _ = tiny_model
    tool = import_tool('analysis/per_image')
    with pytest.raises(SystemExit):
        tool.parse_args([cfg_path, '--data-root', data])
    assert 'needs a checkpoint' in capsys.readouterr().err


def test_a_missing_folder_is_named(tiny_model, tmp_path):
    cfg_path, ckpt, _, _ = tiny_model
    tool = import_tool('analysis/per_image')
    missing = osp.join(str(tmp_path), 'test', 'DRS', 'input')
    with pytest.raises(SystemExit, match=f'{missing} does not exist'):
        tool.main([cfg_path, ckpt, '--data-root', str(tmp_path),
                   '--out', str(tmp_path / 'x')])
    assert not osp.exists(str(tmp_path / 'x.json'))
