"""Router noise in a 2-process (gloo) group: different on every rank,
reproducible per rank."""
import os.path as osp

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import unirain_mm

unirain_mm.register_all_modules()  # spawned ranks import this module afresh
from unirain_mm.models.editors.unirain import Router


def _draw(rank: int, world: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # the same router (seed) on every rank
        router = Router(4, 3, 1.0).train()
        x = torch.ones(2, 4, 3, 3)  # the same input: only noise differs
        probs = torch.stack([router(x) for _ in range(3)])
        torch.save(dict(probs=probs, state=router.state_dict()),
                   osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_ranks_draw_different_noise(tmp_path):
    mp.spawn(_draw, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
              for r in (0, 1))
    # same seed and call count, saved state identical on both ranks ...
    assert torch.equal(r0['state']['_extra_state'],
                       r1['state']['_extra_state'])
    # ... but every draw differs between the ranks
    for a, b in zip(r0['probs'], r1['probs']):
        assert not torch.allclose(a, b)
    # rank 0 draws what a single process draws
    torch.manual_seed(0)
    single = Router(4, 3, 1.0).train()
    x = torch.ones(2, 4, 3, 3)
    for expected in r0['probs']:
        torch.testing.assert_close(single(x), expected)
