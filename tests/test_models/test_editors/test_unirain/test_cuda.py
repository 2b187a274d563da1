"""UniRainNet on a CUDA GPU: no host synchronisation in a training step,
the same results as on the CPU, mixed precision. Skipped, with the reason
shown, on machines without CUDA (``tools/analysis/gpu_check.sh`` runs these
where a GPU exists)."""
import pytest
import torch

from unirain_mm.models.editors.unirain import UniRainNet

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA GPU')


def small_net(**kwargs) -> UniRainNet:
    torch.manual_seed(0)
    return UniRainNet(dim=16, num_blocks=(1, 1, 1, 1),
                      num_refinement_blocks=1, num_heads=(1, 1, 2, 2),
                      encoder_moe_blocks=(1, 1, 1),
                      decoder_moe_blocks=(1, 1, 1), **kwargs)


@pytest.mark.parametrize('top_k', [1, 2])
def test_training_forward_backward_without_host_syncs(top_k):
    net = small_net(top_k=top_k).cuda().train()
    x = torch.rand(4, 3, 32, 32, device='cuda')
    net(x)  # first call: lazy initialisation (cuBLAS handles, generators)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        out, routes = net.forward_with_routes(x)
        loss = (out - x).abs().mean()
        loss.backward()
    finally:
        torch.cuda.set_sync_debug_mode('default')
    assert len(routes) == net.num_moe_layers


def test_cuda_matches_cpu():
    net = small_net().eval()
    x = torch.rand(2, 3, 40, 24)
    with torch.no_grad():
        cpu = net(x)
        gpu = net.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_autocast_forward_backward(dtype):
    net = small_net().cuda().train()
    x = torch.rand(2, 3, 32, 32, device='cuda')
    with torch.autocast('cuda', dtype=dtype):
        out = net(x)
    assert torch.isfinite(out).all()
    out.float().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in net.parameters() if p.requires_grad)


def test_channels_last_on_cuda():
    net = small_net().cuda().eval()
    x = torch.rand(1, 3, 48, 32, device='cuda')
    with torch.no_grad():
        nchw = net(x)
        net.channels_last = True
        cl = net(x)
    torch.testing.assert_close(cl, nchw, atol=1e-4, rtol=1e-4)
