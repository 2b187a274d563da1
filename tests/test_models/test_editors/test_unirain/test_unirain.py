"""UniRain wrapper: per-type loss grouping, weights, router statistics."""
import pytest
import torch
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope
from mmagic.structures import DataSample


def build_model(**kwargs):
    cfg = dict(
        type='UniRain',
        generator=dict(
            type='UniRainNet', dim=8, num_blocks=(1, 1, 1, 1),
            num_refinement_blocks=1, num_heads=(1, 1, 1, 1),
            encoder_moe_blocks=(1, 1, 1), decoder_moe_blocks=(1, 1, 1)),
        data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.],
                               std=[255., 255., 255.]))
    cfg.update(kwargs)
    init_default_scope('mmagic')
    return MODELS.build(cfg)


def sample(gt, label):
    return DataSample(gt_img=gt).set_gt_label(label)


def batch(labels, size=16):
    torch.manual_seed(0)
    inputs = torch.rand(len(labels), 3, size, size)
    samples = DataSample.stack([
        sample(torch.rand(3, size, size), label)
        for label in labels
    ])
    return inputs, samples


def per_image_l1(model, inputs, samples):
    with torch.no_grad():
        pred = model.generator(inputs)
    return (pred - samples.gt_img).abs().mean(dim=(1, 2, 3))


def test_loss_is_weighted_mean_of_per_type_means():
    model = build_model(type_weights=[0.1, 0.2, 0.3, 0.4]).eval()
    labels = [0, 0, 2, 3, 3, 3]
    inputs, samples = batch(labels)
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
    per_image = per_image_l1(model, inputs, samples)
    means = {t: per_image[[i for i, lb in enumerate(labels) if lb == t]].mean()
             for t in (0, 2, 3)}
    expected = (0.1 * means[0] + 0.3 * means[2] + 0.4 * means[3]) / 0.8
    torch.testing.assert_close(losses['loss'], expected)
    torch.testing.assert_close(losses['l1_DRS'], means[0])
    torch.testing.assert_close(losses['l1_NRS'], means[2])
    torch.testing.assert_close(losses['l1_NRD'], means[3])
    assert 'l1_DRD' not in losses  # type absent from the batch
    # only keys containing 'loss' are optimised by mmengine
    assert [k for k in losses if 'loss' in k] == ['loss']


def test_batch_mean_form_follows_the_authors_loss():
    weights = [0.1, 0.2, 0.3, 0.4]
    model = build_model(type_weights=weights, loss_form='batch_mean').eval()
    labels = [0, 0, 2, 3, 3, 3]
    inputs, samples = batch(labels)
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
        pred = model.generator(inputs)
    # the authors' form, term by term: the L1 over the masked sub-batch of
    # each type, times its weight and its share of the batch
    ids = torch.tensor(labels)
    expected = sum(
        weights[t] * torch.nn.functional.l1_loss(
            pred[ids == t], samples.gt_img[ids == t]) *
        (ids == t).sum() / len(labels) for t in range(4) if (ids == t).any())
    torch.testing.assert_close(losses['loss'], expected)
    with pytest.raises(ValueError, match='loss_form'):
        build_model(loss_form='mean')


def test_uniform_weights_by_default_and_updates_take_effect():
    model = build_model().eval()
    torch.testing.assert_close(model.type_weights, torch.full((4, ), 0.25))
    inputs, samples = batch([0, 1])
    with torch.no_grad():
        before = model(inputs, samples, mode='loss')['loss']
        model.type_weights.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        after = model(inputs, samples, mode='loss')
    assert not torch.isclose(before, after['loss'])
    torch.testing.assert_close(after['loss'], after['l1_DRS'])
    assert 'type_weights' in model.state_dict()


def test_router_statistics_per_type():
    model = build_model().eval()
    inputs, samples = batch([0, 0, 1, 3])
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
    for t in ('DRS', 'DRD', 'NRD'):
        freq = [losses[f'router_{t}_e{e}'] for e in range(3)]
        assert sum(freq).item() == pytest.approx(1.0)  # top-1
        assert all(0 <= f <= 1 for f in freq)
    assert not any(k.startswith('router_NRS') for k in losses)


def test_balance_loss_is_optional():
    inputs, samples = batch([0, 1, 2, 3])
    model = build_model(balance_loss_weight=0.01).eval()
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
    assert 0.01 <= losses['loss_balance'].item() <= 0.03
    assert 'loss_balance' not in build_model()(inputs, samples, mode='loss')


def test_train_step_updates_parameters():
    model = build_model()
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    from mmengine.optim import OptimWrapper
    wrapper = OptimWrapper(optim)
    data = dict(
        inputs=[torch.randint(0, 255, (3, 16, 16)).float() for _ in range(2)],
        data_samples=[
            sample(torch.randint(0, 255, (3, 16, 16)).float(), k)
            for k in (1, 2)
        ])
    before = [p.detach().clone() for p in model.generator.parameters()]
    log_vars = model.train_step(data, wrapper)
    assert {'loss', 'l1_DRD', 'l1_NRS'} <= set(log_vars)
    changed = sum(not torch.equal(a, b)
                  for a, b in zip(before, model.generator.parameters()))
    assert changed > 0


def test_missing_or_bad_labels_are_clear_errors():
    model = build_model().eval()
    inputs = torch.rand(2, 3, 16, 16)
    no_label = DataSample.stack(
        [DataSample(gt_img=torch.rand(3, 16, 16)) for _ in range(2)])
    with pytest.raises(KeyError, match='gt_label'):
        model(inputs, no_label, mode='loss')
    _, bad = batch([0, 7])
    with pytest.raises(ValueError, match=r'gt_label \[7\]'):
        model(inputs, bad, mode='loss')
    with pytest.raises(ValueError, match="reduction='none'"):
        build_model(pixel_loss=dict(type='L1Loss', reduction='mean'))
    with pytest.raises(ValueError, match='type_weights'):
        build_model(type_weights=[1.0, 1.0])


def test_predict_mode_returns_restored_images():
    model = build_model().eval()
    inputs, samples = batch([0, 1])
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
    assert len(out) == 2
    assert out[0].output.pred_img.shape == (3, 16, 16)
