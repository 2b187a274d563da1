from unittest.mock import MagicMock

import pytest

from unirain_mm.engine import AverageMetricsHook


def test_adds_averages_and_publishes_them():
    metrics = {'DRS/PSNR': 30.0, 'DRD/PSNR': 20.0, 'NRS/PSNR': 25.0,
               'DRS/SSIM': 0.9, 'DRD/SSIM': 0.7, 'NRS/SSIM': 0.8,
               'DRS/Only': 1.0, 'loss': 3.0}
    runner = MagicMock()
    AverageMetricsHook().after_val_epoch(runner, metrics)
    assert metrics['Avg/PSNR'] == pytest.approx(25.0)
    assert metrics['Avg/SSIM'] == pytest.approx(0.8)
    assert 'Avg/Only' not in metrics  # found in one set only
    assert 'Avg/loss' not in metrics
    runner.message_hub.update_scalar.assert_any_call('val/Avg/PSNR',
                                                     pytest.approx(25.0))


def test_selected_metrics_and_test_mode():
    metrics = {'A/PSNR': 10.0, 'B/PSNR': 20.0, 'A/SSIM': 0.5}
    runner = MagicMock()
    AverageMetricsHook(prefix='Mean', metrics=['SSIM']).after_test_epoch(
        runner, metrics)
    assert metrics == {'A/PSNR': 10.0, 'B/PSNR': 20.0, 'A/SSIM': 0.5,
                       'Mean/SSIM': 0.5}
    runner.message_hub.update_scalar.assert_called_once_with(
        'test/Mean/SSIM', 0.5)
    AverageMetricsHook().after_val_epoch(runner, None)  # no metrics: no-op
