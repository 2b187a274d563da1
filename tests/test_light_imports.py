"""``import unirain_mm`` is cheap and changes nothing global; the data
tools import neither torch nor mmagic. Each check runs in a fresh
interpreter (the test session itself has registered everything)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

HEAVY = ('torch', 'mmagic', 'mmcv', 'diffusers', 'torchvision')


def _run(code: str) -> dict:
    """Run ``code`` in a new interpreter; it prints one JSON line last."""
    proc = subprocess.run(
        [sys.executable, '-c', code], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# numpy and cv2 add their own warnings filters on import; count ours only.
_BASELINE = ('import cv2, numpy, warnings\n'
             'FILTERS = len(warnings.filters)\n')
_REPORT = f'''
import json, sys, warnings
print(json.dumps(dict(
    heavy=sorted(m for m in {HEAVY!r} if m in sys.modules),
    ext_stub='mmcv._ext' in sys.modules,
    filters=len(warnings.filters) - FILTERS)))
'''


def test_import_unirain_mm_is_cheap_and_global_state_untouched():
    out = _run(_BASELINE +
               'import unirain_mm\n'
               'import unirain_mm.datasets.rain_synthesis\n'
               'import unirain_mm.datasets.converters\n'
               'import unirain_mm.datasets.lmdb_pack\n'
               'import unirain_mm.datasets.demo_data\n'
               'import unirain_mm.reweighting\n'
               'import unirain_mm.model_zoo\n'
               'assert callable(unirain_mm.register_all_modules)\n'
               + _REPORT)
    assert out == dict(heavy=[], ext_stub=False, filters=0)


@pytest.mark.parametrize('tool', [
    'tools/dataset_converters/pack_lmdb.py', 'tools/misc/make_demo_data.py',
    'tools/dataset_converters/convert_rain_datasets.py'
])
def test_data_tools_start_without_torch_or_mmagic(tool):
    out = _run(_BASELINE +
               'import runpy, sys\n'
               f'sys.argv = [{tool!r}, "--help"]\n'
               'try:\n'
               f'    runpy.run_path({tool!r}, run_name="__main__")\n'
               'except SystemExit as e:\n'
               '    assert e.code == 0, e.code\n'
               + _REPORT)
    assert out['heavy'] == [] and not out['ext_stub']


def test_lazy_dataset_names_resolve_and_unknown_names_raise():
    out = _run('import sys, json\n'
               'import unirain_mm\n'
               'unirain_mm.register_all_modules()\n'
               'from unirain_mm.datasets import RainTypeDataset\n'
               'from mmagic.registry import DATASETS\n'
               'import unirain_mm.datasets as d\n'
               'try:\n'
               '    d.NoSuchThing\n'
               '    raised = False\n'
               'except AttributeError:\n'
               '    raised = True\n'
               'print(json.dumps(dict(same=DATASETS.get("RainTypeDataset")'
               ' is RainTypeDataset, raised=raised)))\n')
    assert out == dict(same=True, raised=True)


def test_custom_imports_register_everything():
    """A config's ``custom_imports`` (``unirain_mm.registry_all``) registers
    our modules in a process that never called register_all_modules."""
    cfg = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_demo_cpu.py')
    out = _run('import json\n'
               'from mmengine.config import Config\n'
               f'cfg = Config.fromfile({cfg!r})\n'
               'from mmengine.registry import init_default_scope\n'
               'init_default_scope(cfg.default_scope)\n'
               'from mmagic.registry import MODELS, HOOKS, METRICS\n'
               'model = MODELS.build(cfg.model)\n'
               'print(json.dumps(dict(model=type(model).__name__, '
               'hook=HOOKS.get("ReweightingHook") is not None, '
               'metric=METRICS.get("PSNRY") is not None)))\n')
    assert out == dict(model='UniRain', hook=True, metric=True)
