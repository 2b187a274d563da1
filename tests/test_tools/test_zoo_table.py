"""tools/analysis/zoo_table.py: models side by side with the input row."""
import json

import pytest

from conftest import import_tool

tool = import_tool('analysis/zoo_table')


def _results(path, psnr, input_psnr=20.0):
    path.write_text(json.dumps({
        'Rain100H-samples/PSNR-Y': psnr,
        'Rain100H-samples/InputPSNR-Y': input_psnr,
        'Rain100H-samples/SSIM-Y': 0.8,
        'Rain100H-samples/InputSSIM-Y': 0.5,
        'Avg/PSNR-Y': psnr}))
    return str(path)


def test_rows_gains_and_input(tmp_path):
    a = _results(tmp_path / 'a.json', 26.5)
    b = _results(tmp_path / 'b.json', 19.25)
    text = tool.main([f'A={a}', f'B={b}', '--out', str(tmp_path / 't.md')])
    lines = text.splitlines()
    assert lines[0] == ('| model | Rain100H-samples PSNR-Y | '
                        'Rain100H-samples SSIM-Y |')
    assert lines[2] == '| Input | 20.00 | 0.5000 |'
    assert lines[3] == '| A | 26.50 (+6.50) | 0.8000 |'
    assert lines[4] == '| B | 19.25 (-0.75) | 0.8000 |'
    assert (tmp_path / 't.md').read_text() == text


def test_rows_scored_on_other_images_are_refused(tmp_path):
    a = _results(tmp_path / 'a.json', 26.5)
    b = _results(tmp_path / 'b.json', 25.0, input_psnr=21.0)
    with pytest.raises(SystemExit, match='not the same test images'):
        tool.main([f'A={a}', f'B={b}'])
    with pytest.raises(SystemExit, match='LABEL=RESULTS.json'):
        tool.main([a])


def test_unreadable_results_name_the_file(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"DRS/PSNR-Y": ')
    with pytest.raises(SystemExit, match='bad.json: not JSON'):
        tool.main([f'A={bad}'])
