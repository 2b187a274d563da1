"""The paper's published numbers: the values and what is left out."""
import glob
import os.path as osp

from conftest import REPO_ROOT
from unirain_mm.evaluation.paper_results import (PAPER_ROWS, SETS,
                                                 paper_value)


def test_unirain_row():
    row = PAPER_ROWS['unirain_all']
    assert row.values['DRS'] == (29.58, 0.8400, 0.1814)
    assert row.values['NRD'] == (26.21, 0.8380, 0.3275)
    assert row.values['Avg'] == (28.93, 0.8515, 0.2279)
    # the paper's average PSNR is the mean of its four types
    psnr = [row.values[t][0] for t in SETS[:4]]
    assert round(sum(psnr) / 4, 2) == 28.93


def test_rows_we_do_not_have_are_none():
    assert paper_value('unirain_hard_hard', 'Avg') == (None, None, None)
    assert paper_value('restormer_all', 'DRS') == (None, None, None)
    assert paper_value('unirain_soft_soft', 'Avg') == (27.91, None, None)
    assert paper_value('unirain_fixed_weights', 'Avg')[0] == round(
        28.93 - 1.69, 2)


def test_every_ablation_config_has_a_row():
    configs = glob.glob(osp.join(REPO_ROOT, 'configs', 'unirain',
                                 'paper_ablations', '*.py'))
    names = {osp.splitext(osp.basename(p))[0] for p in configs}
    assert names | {'unirain_all', 'restormer_all'} == set(PAPER_ROWS)
    assert osp.isfile(osp.join(REPO_ROOT, 'configs', 'baselines',
                               'restormer_all.py'))
