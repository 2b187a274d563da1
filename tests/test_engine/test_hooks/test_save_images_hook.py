from types import SimpleNamespace

import cv2
import numpy as np
import torch
from mmagic.structures import DataSample

from unirain_mm.engine import SaveImagesHook
from unirain_mm.engine.hooks.save_images_hook import labelled_grid, \
    to_rgb_uint8


def _runner(*prefixes):
    metrics = [SimpleNamespace(prefix=p) for p in prefixes]
    evaluator = SimpleNamespace(metrics=metrics)
    return SimpleNamespace(test_loop=SimpleNamespace(evaluator=evaluator))


def _sample(name):
    bgr = torch.zeros(3, 8, 10)
    bgr[0] = 200.4  # blue
    sample = DataSample(img_path=f'/data/Rain100H/DRS/input/{name}',
                        input=torch.full((3, 8, 10), 10.),
                        gt_img=torch.full((3, 8, 10), 250.))
    sample.output = DataSample(pred_img=bgr)
    return sample


def test_bgr_float_to_rgb_uint8():
    rgb = to_rgb_uint8(_sample('a.png').output.pred_img)
    assert rgb.dtype == np.uint8 and rgb.shape == (8, 10, 3)
    assert rgb[0, 0].tolist() == [0, 0, 200]


def test_set_name_is_the_metric_prefix():
    assert SaveImagesHook.set_name(_runner('DRS', 'DRS')) == 'DRS'
    assert SaveImagesHook.set_name(_runner(None)) == 'test'
    assert SaveImagesHook.set_name(SimpleNamespace(test_loop=None)) == 'test'


def test_writes_outputs_under_the_input_name(tmp_path):
    hook = SaveImagesHook(str(tmp_path), grid=True)
    hook.after_test_iter(_runner('Rain100H'), 0, None,
                         [_sample('rain-1.jpg'), _sample('rain-2.png')])
    assert sorted(p.name for p in (tmp_path / 'Rain100H').iterdir()) == \
        ['rain-1.png', 'rain-2.png']
    bgr = cv2.imread(str(tmp_path / 'Rain100H' / 'rain-1.png'))
    assert bgr[0, 0].tolist() == [200, 0, 0]  # blue stays blue on disk
    grid = cv2.imread(str(tmp_path / 'grids' / 'Rain100H' / 'rain-2.png'))
    assert grid.shape[1] == 3 * 10 + 2 * 4
    assert grid[-1, 0].tolist() == [10] * 3  # input | output | target
    assert grid[-1, -1].tolist() == [250] * 3
    hook = SaveImagesHook(str(tmp_path / 'plain'))
    hook.after_test_iter(_runner('DRS'), 0, None, [_sample('x.png')])
    assert not (tmp_path / 'plain' / 'grids').exists()


def test_grid_labels_draw_in_the_header():
    img = np.full((20, 30, 3), 128, np.uint8)
    grid = labelled_grid([img, img], ['input', 'output'], gap=2)
    header = grid.shape[0] - 20
    assert grid.shape == (20 + header, 62, 3)
    assert (grid[:header] < 255).any()  # some text
    assert (grid[header:, :30] == 128).all()
