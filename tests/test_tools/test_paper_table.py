"""tools/analysis/paper_table.py on results files written as tools/test.py
writes them."""
import os

import pytest

from conftest import import_tool
from unirain_mm.evaluation.results_table import save_results


@pytest.fixture(scope='module')
def tool():
    return import_tool('analysis/paper_table')


def results(tmp_path, folder: str, metrics: dict) -> str:
    os.makedirs(tmp_path / folder, exist_ok=True)
    return save_results(metrics, str(tmp_path / folder / 'results'))[0]


AUTHORS = {
    'DRS/PSNR-RGB': 29.104, 'DRS/SSIM-pyiqa': 0.83216, 'DRS/LPIPS': 0.19,
    'DRS/InputPSNR-RGB': 20.0, 'Rain100H/PSNR-RGB': 31.0,
    'Avg/PSNR-RGB': 28.5, 'Avg/SSIM-pyiqa': 0.84, 'Avg/LPIPS': 0.2311,
}


def test_rows_beside_the_paper(tool, tmp_path, capsys):
    full = results(tmp_path, 'unirain_all', AUTHORS)
    soft = results(tmp_path, 'anything', {'Avg/PSNR': 27.0,
                                          'Avg/SSIM': 0.8})
    text = tool.main([full, f'unirain_soft_soft={soft}'])
    assert capsys.readouterr().out == text
    lines = text.splitlines()
    assert lines[2] == ('| Model | Source | DRS | DRD | NRS | NRD | '
                        'Average |')
    paper = ('| UniRain (Soft+Hard, full CoBa) | paper (main results) | '
             '29.58 / 0.8400 / 0.1814 | 24.71 / 0.7687 / 0.2408 | '
             '35.23 / 0.9592 / 0.1617 | 26.21 / 0.8380 / 0.3275 | '
             '28.93 / 0.8515 / 0.2279 |')
    ours = (f'| UniRain (Soft+Hard, full CoBa) | ours: `{full}` | '
            '29.10 / 0.8322 / 0.1900 | - | - | - | 28.50 / 0.8400 / '
            '0.2311 |')
    assert lines[4:6] == [paper, ours]
    i = lines.index('| Soft+Soft | paper (Table 6) | n/a | n/a | n/a | n/a '
                    '| 27.91 / n/a / n/a |')
    assert lines[i + 1] == (f'| Soft+Soft | ours (Y): `{soft}` | - | - | - '
                            '| - | 27.00 / 0.8000 / - |')
    assert ('| Restormer (retrained on RainRAG) | paper (main results) | '
            'n/a | n/a | n/a | n/a | 27.89 / 0.8405 / 0.2332 |') in lines
    assert ('| Fixed weights* | paper (Table 5) | n/a | n/a | n/a | n/a | '
            '27.24 / n/a / n/a |') in lines
    for label in ('Hard+Hard', 'Hard+Soft', 'Single expert', 'TBS only',
                  'TBS + TSS'):
        assert (f'| {label} | paper (Table {"5" if "TBS" in label else "6"}'
                ') | n/a | n/a | n/a | n/a | n/a |') in lines
    assert any(line.startswith('- n/a: a number of the paper we do not')
               for line in lines)
    assert any(line.startswith('- (Y): ') for line in lines)
    assert any('Fixed weights*: the paper states reweighting gains +1.69 dB'
               in line for line in lines)
    assert any('pyiqa' in line and 'RGB' in line and '--protocol authors'
               in line for line in lines)
    assert 'arXiv 2603.03967' in lines[0]


def test_file_of_no_paper_row_gets_its_own_row(tool, tmp_path):
    path = results(tmp_path, 'my_run', AUTHORS)
    out = str(tmp_path / 'table.md')
    text = tool.main([path, '--out', out])
    assert text.splitlines()[-1].startswith('- ')  # notes last
    assert f'| my_run | ours: `{path}` | 29.10 / 0.8322 / 0.1900 |' in text
    assert '(Y)' not in text
    with open(out) as f:
        assert f.read() == text


@pytest.mark.parametrize('content,message', [
    ('{"DRS/PSNR": ', 'not JSON'),
    ('[1, 2]', 'expected one JSON object'),
    ('{"DRS/PSNR": "high"}', 'expected one JSON object'),
    ('{"Rain100H/PSNR": 30.0}', 'no PSNR / SSIM of the sets DRS'),
])
def test_bad_results_file_is_named(tool, tmp_path, content, message):
    path = tmp_path / 'results.json'
    path.write_text(content)
    with pytest.raises(SystemExit, match=f'{path}: {message}'):
        tool.main([str(path)])


def test_bad_row_or_missing_file(tool, tmp_path):
    with pytest.raises(SystemExit, match="unknown row 'unirain'; the paper "
                       'rows are unirain_all, '):
        tool.main([f'unirain={tmp_path}/r.json'])
    with pytest.raises(SystemExit, match='r.json: cannot read'):
        tool.main([f'{tmp_path}/r.json'])
