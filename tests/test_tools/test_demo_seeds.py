"""tools/analysis/demo_seeds.py: the demo's gain over seeds."""
import json
import math

import pytest

from conftest import import_tool

tool = import_tool('analysis/demo_seeds')


def _results(drs, drd, input_drs=27.0, input_drd=23.0):
    return {'DRS/PSNR-Y': drs, 'DRS/InputPSNR-Y': input_drs,
            'DRD/PSNR-Y': drd, 'DRD/InputPSNR-Y': input_drd,
            'Avg/PSNR-Y': (drs + drd) / 2,
            'Avg/InputPSNR-Y': (input_drs + input_drd) / 2}


def test_mean_spread_and_min_over_seeds():
    runs = {2026: _results(28.5, 24.0), 1: _results(29.0, 23.5),
            2: _results(28.0, 24.5)}
    table = tool.summarize(runs, 'PSNR-Y', 1.0)
    assert list(table) == ['DRS', 'DRD']  # no Avg row
    drs, drd = table['DRS'], table['DRD']
    assert drs['gains'] == pytest.approx([1.5, 2.0, 1.0])
    assert drs['mean'] == pytest.approx(1.5)
    assert drs['std'] == pytest.approx(0.5)  # sample std of 1.5, 2.0, 1.0
    assert drs['min'] == pytest.approx(1.0) and drs['every_seed_reaches']
    assert drd['gains'] == pytest.approx([1.0, 0.5, 1.5])
    assert drd['min'] == pytest.approx(0.5)
    assert not drd['every_seed_reaches']
    text = tool.format_table(table, [2026, 1, 2], 'PSNR-Y', 1.0)
    lines = text.splitlines()
    assert lines[0].startswith('| set | Input PSNR-Y | seed 2026 | seed 1 |')
    assert lines[2] == ('| DRS | 27.00 | 28.50 (+1.50) | 29.00 (+2.00) | '
                        '28.00 (+1.00) | +1.50 +- 0.50 | +1.00 | yes |')
    assert lines[3].endswith('| +0.50 | no |')


def test_one_seed_has_no_spread():
    table = tool.summarize({7: _results(28.0, 23.0)}, 'PSNR-Y', 1.0)
    assert math.isnan(table['DRS']['std'])


def test_seeds_scored_on_other_images_are_refused():
    runs = {1: _results(28.0, 24.0), 2: _results(28.0, 24.0, input_drs=26.)}
    with pytest.raises(SystemExit, match='not the same test images'):
        tool.summarize(runs, 'PSNR-Y', 1.0)
    with pytest.raises(SystemExit, match='Input'):
        tool.summarize({1: {'DRS/PSNR-Y': 28.0}}, 'PSNR-Y', 1.0)


def test_existing_results_are_not_run_again(tmp_path, capsys):
    """Seeds whose test results exist are summarised without training."""
    for seed, (drs, drd) in {3: (28.0, 24.5), 4: (28.4, 24.1)}.items():
        folder = tmp_path / f'seed_{seed}' / 'test'
        folder.mkdir(parents=True)
        (folder / 'results.json').write_text(json.dumps(_results(drs, drd)))
    table = tool.main(['--seeds', '3', '4', '--work-dir', str(tmp_path)])
    assert table['DRD']['gains'] == pytest.approx([1.5, 1.1])
    assert 'not run again' in capsys.readouterr().out
    saved = json.loads((tmp_path / 'seeds.json').read_text())
    assert saved['seeds'] == [3, 4]
    assert (tmp_path / 'seeds.md').read_text().startswith('| set |')


def test_a_failing_training_stops_with_its_command(tmp_path):
    with pytest.raises(SystemExit, match='failed with exit status'):
        tool.main(['--config', str(tmp_path / 'missing.py'), '--seeds', '1',
                   '--work-dir', str(tmp_path / 'w')])
