"""Per-image mixture-of-experts layers used by :class:`UniRainNet`.

The encoder uses :class:`SoftMoE` (every expert runs, outputs are mixed by the
router weights) and the decoder uses :class:`HardMoE` (each image runs only its
top-k experts). Routing is per image: global average pooling of the layer's
input, a linear layer and a softmax, with Gaussian noise on the logits during
training only.

A route (the router's probabilities, one ``(B, num_experts)`` tensor per MoE
layer) can be computed once, e.g. on a downscaled copy of a large image, and
passed back in so that all tiles of that image use the same experts.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch
import torch.nn as nn


@dataclass
class RouteInfo:
    """What one MoE layer decided for a batch.

    Attributes:
        probs (Tensor): Router probabilities, shape (B, num_experts). These
            are the values to pass back as a fixed route.
        gates (Tensor): Mixing weight of each expert, shape (B, num_experts);
            zero for experts an image does not run.
        hard (bool): Whether the layer is a Hard-MoE (top-k) layer.
    """
    probs: torch.Tensor
    gates: torch.Tensor
    hard: bool

    @property
    def selected(self) -> torch.Tensor:
        """Boolean (B, num_experts) mask of the experts each image ran."""
        return self.gates > 0


class Router(nn.Module):
    """Per-image router: ``softmax(W * GAP(x) + noise)``.

    The training noise is drawn from a generator seeded by two buffers (a
    seed and a call counter), not from the global RNG, so that a resumed run
    draws exactly the noise the uninterrupted run would have drawn, whatever
    else (data loading, validation) consumed random numbers in between.

    Args:
        channels (int): Channels of the layer input.
        num_experts (int): Number of experts.
        noise_std (float): Std of the Gaussian noise added to the logits in
            training mode. 0 disables it.
    """

    def __init__(self, channels: int, num_experts: int,
                 noise_std: float) -> None:
        super().__init__()
        self.proj = nn.Linear(channels, num_experts)
        self.noise_std = noise_std
        self.register_buffer('noise_seed', torch.randint(2**31 - 1, ()))
        self.register_buffer('noise_calls', torch.zeros((), dtype=torch.long))

    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        gen = torch.Generator(device=like.device)
        gen.manual_seed(
            hash((int(self.noise_seed), int(self.noise_calls))) & (2**63 - 1))
        self.noise_calls += 1
        return torch.randn(
            like.shape, generator=gen, device=like.device, dtype=like.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Route a batch.

        Args:
            x (Tensor): Layer input, shape (B, C, H, W).

        Returns:
            Tensor: Probabilities, shape (B, num_experts).
        """
        logits = self.proj(x.mean(dim=(2, 3)))
        if self.training and self.noise_std > 0:
            logits = logits + self._noise(logits) * self.noise_std
        return logits.softmax(dim=-1)


class _MoEBase(nn.Module):

    hard = False

    def __init__(self, channels: int, num_experts: int,
                 expert_factory: Callable[[], nn.Module],
                 noise_std: float) -> None:
        super().__init__()
        if num_experts < 1:
            raise ValueError(f'num_experts must be >= 1, got {num_experts}')
        self.num_experts = num_experts
        self.router = Router(channels, num_experts, noise_std)
        self.experts = nn.ModuleList(
            expert_factory() for _ in range(num_experts))

    def _route(self, x: torch.Tensor,
               probs: Optional[torch.Tensor]) -> torch.Tensor:
        if probs is None:
            return self.router(x)
        if probs.dim() != 2 or probs.size(1) != self.num_experts:
            raise ValueError(f'a given route must have shape (B, '
                             f'{self.num_experts}), got {tuple(probs.shape)}')
        if probs.size(0) == 1 and x.size(0) > 1:  # one route for all tiles
            probs = probs.expand(x.size(0), -1)
        elif probs.size(0) != x.size(0):
            raise ValueError(f'route batch {probs.size(0)} does not match '
                             f'input batch {x.size(0)}')
        return probs.to(x.dtype)


class SoftMoE(_MoEBase):
    """Soft mixture: all experts run, outputs are mixed by router weights.

    Args:
        channels (int): Input channels (for the router).
        num_experts (int): Number of experts.
        expert_factory (Callable): Builds one expert mapping
            (B, C, H, W) -> (B, C, H, W).
        noise_std (float): Router noise std in training.
    """

    def forward(self,
                x: torch.Tensor,
                probs: Optional[torch.Tensor] = None) -> tuple:
        """Args:
            x (Tensor): Shape (B, C, H, W).
            probs (Tensor, optional): A fixed route, shape (B or 1, N).

        Returns:
            tuple[Tensor, RouteInfo]: Output (B, C, H, W) and the route.
        """
        probs = self._route(x, probs)
        out = sum(probs[:, e].view(-1, 1, 1, 1) * expert(x)
                  for e, expert in enumerate(self.experts))
        return out, RouteInfo(probs=probs, gates=probs, hard=False)


class HardMoE(_MoEBase):
    """Sparse top-k mixture: each image runs only its selected experts.

    The batch is grouped by expert, so an expert that no image selected does
    no computation at all.

    Args:
        channels (int): Input channels (for the router).
        num_experts (int): Number of experts.
        expert_factory (Callable): Builds one expert mapping
            (B, C, H, W) -> (B, C, H, W).
        noise_std (float): Router noise std in training.
        top_k (int): Experts per image.
        renormalize (bool): Rescale the top-k probabilities to sum to 1. The
            paper's formula does not.
    """

    hard = True

    def __init__(self,
                 channels: int,
                 num_experts: int,
                 expert_factory: Callable[[], nn.Module],
                 noise_std: float,
                 top_k: int = 1,
                 renormalize: bool = False) -> None:
        super().__init__(channels, num_experts, expert_factory, noise_std)
        if not 1 <= top_k <= num_experts:
            raise ValueError(
                f'top_k must be in [1, {num_experts}], got {top_k}')
        self.top_k = top_k
        self.renormalize = renormalize

    def forward(self,
                x: torch.Tensor,
                probs: Optional[torch.Tensor] = None) -> tuple:
        """Args:
            x (Tensor): Shape (B, C, H, W).
            probs (Tensor, optional): A fixed route, shape (B or 1, N).

        Returns:
            tuple[Tensor, RouteInfo]: Output (B, C, H, W) and the route.
        """
        probs = self._route(x, probs)
        top_p, top_idx = probs.topk(self.top_k, dim=-1)
        if self.renormalize:
            top_p = top_p / top_p.sum(dim=-1, keepdim=True)
        gates = torch.zeros_like(probs).scatter(1, top_idx, top_p)
        out = None
        for e, expert in enumerate(self.experts):
            rows = gates[:, e].nonzero().flatten()
            if rows.numel() == 0:
                continue
            y = gates[rows, e].view(-1, 1, 1, 1) * expert(x[rows])
            if out is None:  # dtype of the experts' output (autocast)
                out = y.new_zeros((x.size(0), ) + y.shape[1:])
            out = out.index_add(0, rows, y.to(out.dtype))
        return out, RouteInfo(probs=probs, gates=gates, hard=True)


def load_balance_loss(routes: List[RouteInfo]) -> torch.Tensor:
    """Switch-Transformer style load-balancing loss, averaged over layers.

    For each layer ``N * sum_e f_e * P_e``, where ``f_e`` is the fraction of
    images that ran expert ``e`` (the mean probability for soft layers, which
    run every expert) and ``P_e`` the mean router probability. It is 1 for a
    balanced router and approaches N as routing collapses onto one expert.

    Args:
        routes (list[RouteInfo]): Routes of one forward pass.

    Returns:
        Tensor: Scalar loss.
    """
    if not routes:
        raise ValueError('load_balance_loss needs at least one route')
    losses = []
    for route in routes:
        mean_prob = route.probs.mean(0)
        load = route.selected.float().mean(0) if route.hard else mean_prob
        losses.append(route.probs.size(1) * (load.detach() * mean_prob).sum())
    return torch.stack(losses).mean()
