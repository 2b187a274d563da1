import json

import pytest

from unirain_mm.fileio import atomic_write_text, save_json_atomic


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    path = tmp_path / 'sub' / 'a.json'
    save_json_atomic({'x': 1}, str(path))
    assert json.loads(path.read_text()) == {'x': 1}
    atomic_write_text(str(path), 'é')
    assert path.read_text(encoding='utf-8') == 'é'
    assert [p.name for p in path.parent.iterdir()] == ['a.json']


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text('old')
    with pytest.raises(TypeError):
        save_json_atomic({'x': object()}, str(path))  # not serialisable
    assert path.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['a.json']
