"""The LMDB layout module: meta lines, and no packer <-> dataset cycle."""
import ast
import os.path as osp

from unirain_mm.datasets.lmdb_io import MetaLine, read_meta_info

from conftest import REPO_ROOT


def _imported_modules(path):
    """Every module that ``path`` imports, at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f'{node.module}.{alias.name}'
                         for alias in node.names)
    return names


def test_packer_and_dataset_do_not_import_each_other():
    folder = osp.join(REPO_ROOT, 'unirain_mm', 'datasets')
    pack = _imported_modules(osp.join(folder, 'lmdb_pack.py'))
    dataset = _imported_modules(osp.join(folder, 'lmdb_dataset.py'))
    assert 'unirain_mm.datasets.lmdb_io' in pack
    assert 'unirain_mm.datasets.lmdb_io' in dataset
    assert not any('lmdb_dataset' in name for name in pack)
    assert not any('lmdb_pack' in name for name in dataset)


def test_meta_line_written_then_read(tmp_path):
    lines = [MetaLine('demo_a', (96, 128, 3), 0, 'NRD', 'demo'),
             MetaLine('basicsr_b', (8, 8, 3), 3)]
    path = tmp_path / 'meta_info.txt'
    path.write_text('\n'.join(line.format() for line in lines) + '\n')
    assert path.read_text().splitlines() == [
        'demo_a.png (96,128,3) 0 NRD demo', 'basicsr_b.png (8,8,3) 3']
    assert read_meta_info(str(path)) == lines
