"""``--data-root``: training (from LMDB), validation and testing all read a
copy of the data, in a folder where the config's own roots do not exist."""
import os.path as osp
import shutil

from unirain_mm.datasets.lmdb_pack import pack_pairs
from unirain_mm.datasets.pairs import records_from_layout

from conftest import DEMO_CONFIG, import_tool

# the demo config at a few seconds' size; its roots stay data/demo
TINY = f"""_base_ = [{DEMO_CONFIG!r}]
model = dict(generator=dict(dim=8, num_heads=(1, 1, 1, 1)))
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = dict(end=2, T_max=2)
train_dataloader = dict(num_workers=0, persistent_workers=False)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""


def test_train_and_test_read_the_data_root(pair_tree, tmp_path,
                                           monkeypatch):
    copy = str(tmp_path / 'copy')
    shutil.copytree(pair_tree, copy)
    pack_pairs(records_from_layout(copy, 'train'),
               osp.join(copy, 'lmdb', 'train'), progress=False)
    config = tmp_path / 'tiny.py'
    config.write_text(TINY)
    run = tmp_path / 'run'
    run.mkdir()
    monkeypatch.chdir(run)  # no data/demo here: only the copy can be read
    work_dir = str(tmp_path / 'work')

    import_tool('train').main([str(config), '--data-root', copy,
                               '--work-dir', work_dir])
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    metrics = import_tool('test').main([
        str(config), osp.join(work_dir, 'iter_2.pth'), '--cfg-options',
        f'data_root={copy}', '--work-dir', work_dir])
    assert {k.split('/')[0] for k in metrics} == {'DRS', 'DRD', 'NRS',
                                                  'NRD', 'Avg'}
    assert not osp.exists(osp.join(str(run), 'data'))
