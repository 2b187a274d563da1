"""Per-image mixture-of-experts layers used by :class:`UniRainNet`.

The encoder uses :class:`SoftMoE` (every expert runs, outputs are mixed by the
router weights) and the decoder uses :class:`HardMoE` (each image runs only its
top-k experts). Routing is per image: global average pooling of the layer's
input, a linear layer and a softmax, with Gaussian noise on the logits during
training only.

Both layers keep their experts in one :class:`ExpertBank`, the weights of N
gated feed-forward networks stacked along a leading expert axis, and run them
without a Python loop over experts and without reading any value back to the
host, so that shapes are static and the layers export to ONNX:

* the Soft-MoE runs the bank as one wide feed-forward network (all experts'
  input projections and depth-wise convolutions as one convolution over
  ``N * hidden`` channels, expert ``e``'s hidden slice scaled by ``p_e``, one
  output projection over the concatenation), which equals
  ``sum_e p_e * E_e(x)``;
* the Hard-MoE gathers each image's selected experts' weights and runs them as
  batched matrix products and a depth-wise convolution with per-image weights,
  so an expert that an image did not select does no work for it.

A route (the router's probabilities, one ``(B, num_experts)`` tensor per MoE
layer) can be computed once, e.g. on a downscaled copy of a large image, and
passed back in so that all tiles of that image use the same experts.
"""
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class RouteInfo:
    """What one MoE layer decided for a batch.

    Attributes:
        probs (Tensor): Router probabilities, shape (B, num_experts). These
            are the values to pass back as a fixed route.
        gates (Tensor): Mixing weight of each expert, shape (B, num_experts);
            zero for experts an image does not run.
        hard (bool): Whether the layer is a Hard-MoE (top-k) layer.
        mask (Tensor, optional): Boolean (B, num_experts), the experts each
            image ran; None: those with a positive gate.
    """
    probs: torch.Tensor
    gates: torch.Tensor
    hard: bool
    mask: Optional[torch.Tensor] = None

    @property
    def selected(self) -> torch.Tensor:
        """Boolean (B, num_experts) mask of the experts each image ran."""
        return self.gates > 0 if self.mask is None else self.mask


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() \
        else 0


class Router(nn.Module):
    """Per-image router: ``softmax(W * GAP(x) + noise)``.

    The training noise comes from the router's own generator, re-seeded for
    every call from a seed, the call count and the process rank, which are
    plain Python integers: drawing needs no value from the device (no host
    synchronisation), every rank of a distributed run draws different noise,
    and a resumed run draws exactly the noise the uninterrupted run would
    have drawn, whatever else consumed random numbers in between. The seed
    and the call count are the module's extra state, so they travel in the
    state dict (key ``<prefix>_extra_state``, a (2,) int64 tensor).

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
        # from the global RNG, so that a seeded run builds the same routers
        # (on the CPU: also when the model is built on the meta device)
        self.noise_seed = int(torch.randint(2**31 - 1, (), device='cpu'))
        self.noise_calls = 0
        self._generators: dict = {}

    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor([self.noise_seed, self.noise_calls])

    def set_extra_state(self, state: Any) -> None:
        if not (isinstance(state, torch.Tensor) and state.shape == (2, )):
            raise ValueError('router extra state must be a (2,) tensor '
                             f'[seed, calls], got {state!r}')
        self.noise_seed, self.noise_calls = (int(v) for v in state.cpu())

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        _merge_router_buffers(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        gen = self._generators.get(like.device)
        if gen is None:
            gen = self._generators[like.device] = torch.Generator(like.device)
        rank = _rank()
        # rank 0 keeps the seeds of the buffer-based router, so that older
        # checkpoints resume with the noise they would have drawn
        key = (self.noise_seed, self.noise_calls) if rank == 0 else (
            self.noise_seed, self.noise_calls, rank)
        gen.manual_seed(hash(key) & (2**63 - 1))
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


def _merge_router_buffers(state_dict: dict, prefix: str) -> None:
    """In place: a router's ``noise_seed`` and ``noise_calls`` buffers (the
    layout before the extra state) -> its ``_extra_state``."""
    seed, calls = prefix + 'noise_seed', prefix + 'noise_calls'
    if seed in state_dict and calls in state_dict:
        state_dict[prefix + '_extra_state'] = torch.stack(
            [state_dict.pop(seed), state_dict.pop(calls)]).long().cpu()


def _stack_experts(state_dict: dict, prefix: str) -> None:
    """In place: per-expert entries ``<prefix><e>.<part>.weight|bias`` (one
    ``nn.Conv2d`` per part and expert) -> the stacked :class:`ExpertBank`
    entries."""
    for part in ExpertBank.PARTS:
        for suffix in ('weight', 'bias'):
            keys = []
            while f'{prefix}{len(keys)}.{part}.{suffix}' in state_dict:
                keys.append(f'{prefix}{len(keys)}.{part}.{suffix}')
            if not keys:
                continue
            # (C_out, C_in / groups, kh, kw) per expert
            stacked = torch.stack([state_dict.pop(k) for k in keys])
            if suffix == 'bias':
                state_dict[f'{prefix}{part}_bias'] = stacked
            elif part == 'dwconv':
                state_dict[prefix + part] = stacked.flatten(1, 2)
            else:
                state_dict[prefix + part] = stacked.flatten(2)


_PER_EXPERT_KEY = re.compile(
    r'^(.*\.)?experts\.\d+\.(proj_in|dwconv|proj_out)\.(weight|bias)$')


def upgrade_state_dict(state_dict: Dict[str, Any]) -> Dict[str, Any]:
    """A state dict of any UniRain layout in today's layout.

    State dicts saved before the expert bank (one module per expert, router
    seed and call count as buffers) load into the current modules anyway
    (their ``_load_from_state_dict`` converts); this does the same
    conversion up front, e.g. to compare a checkpoint's keys with a model's.

    Args:
        state_dict (dict): Any (sub-)model's state dict.

    Returns:
        dict: A new dict; entries already in today's layout are unchanged.
    """
    state = dict(state_dict)
    banks = {m.group(1) or '' for m in map(_PER_EXPERT_KEY.match, state)
             if m}
    for prefix in banks:
        _stack_experts(state, prefix + 'experts.')
    for key in [k for k in state if k.endswith('router.noise_seed')]:
        _merge_router_buffers(state, key[:-len('noise_seed')])
    return state


class ExpertBank(nn.Module):
    """The weights of ``N`` gated feed-forward experts, stacked.

    Expert ``e`` computes ``W_out[e] (GELU(a) * g)`` with
    ``(a, g) = DW[e](W_in[e] x)``, the dense block of :class:`UniRainNet`.
    The first ``hidden`` output channels of ``W_in[e]`` and ``DW[e]`` are
    ``a``, the next ``hidden`` are ``g``.

    Parameters: ``proj_in`` (N, 2 * hidden, C), ``dwconv``
    (N, 2 * hidden, 3, 3), ``proj_out`` (N, C, hidden) and, with ``bias``,
    ``proj_in_bias`` (N, 2 * hidden), ``dwconv_bias`` (N, 2 * hidden),
    ``proj_out_bias`` (N, C). State dicts of the per-expert layout (a list of
    modules ``<e>.proj_in``, ``<e>.dwconv``, ``<e>.proj_out``) load too.

    Args:
        channels (int): Input and output channels.
        num_experts (int): Number of experts.
        hidden (int): Hidden channels of each branch of one expert.
        bias (bool): Use biases.
    """

    PARTS = ('proj_in', 'dwconv', 'proj_out')

    def __init__(self, channels: int, num_experts: int, hidden: int,
                 bias: bool) -> None:
        super().__init__()
        self.channels, self.num_experts, self.hidden = (channels, num_experts,
                                                        hidden)
        n, c, h = num_experts, channels, hidden
        self.proj_in = nn.Parameter(torch.empty(n, 2 * h, c))
        self.dwconv = nn.Parameter(torch.empty(n, 2 * h, 3, 3))
        self.proj_out = nn.Parameter(torch.empty(n, c, h))
        shapes = dict(proj_in=(n, 2 * h), dwconv=(n, 2 * h), proj_out=(n, c))
        for part in self.PARTS:
            self.register_parameter(
                f'{part}_bias',
                nn.Parameter(torch.empty(shapes[part])) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise every expert as ``nn.Conv2d`` initialises its layers:
        weights and biases uniform in +-1/sqrt(fan-in of one expert)."""
        fan_in = dict(proj_in=self.channels, dwconv=9, proj_out=self.hidden)
        for part in self.PARTS:
            bound = 1 / math.sqrt(fan_in[part])
            nn.init.uniform_(getattr(self, part), -bound, bound)
            bias = getattr(self, f'{part}_bias')
            if bias is not None:
                nn.init.uniform_(bias, -bound, bound)

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        _stack_experts(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _finish(self, hid: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """``GELU(a) * g * scale`` from (B, k, 2 * hidden, ...) to
        (B, k * hidden, ...), scale (B, k)."""
        act, gate = hid.unflatten(2, (2, self.hidden)).unbind(2)
        scale = scale.to(gate.dtype).reshape(scale.shape + (1, ) *
                                             (gate.dim() - 2))
        return (F.gelu(act) * (gate * scale)).flatten(1, 2)

    def forward_all(self, x: torch.Tensor,
                    probs: torch.Tensor) -> torch.Tensor:
        """``sum_e probs[:, e] * E_e(x)`` as one wide feed-forward network.

        Args:
            x (Tensor): Shape (B, C, H, W).
            probs (Tensor): Mixing weights, shape (B, N).

        Returns:
            Tensor: Shape (B, C, H, W).
        """
        n, h = self.num_experts, self.hidden
        hid = F.conv2d(
            x, self.proj_in.reshape(n * 2 * h, self.channels, 1, 1),
            self._flat(self.proj_in_bias))
        hid = F.conv2d(
            hid, self.dwconv.reshape(n * 2 * h, 1, 3, 3),
            self._flat(self.dwconv_bias), padding=1, groups=n * 2 * h)
        hid = self._finish(hid.unflatten(1, (n, 2 * h)), probs)
        # (N, C, h) -> (C, N * h): expert e's slice of the concatenation
        w_out = self.proj_out.transpose(0, 1).reshape(self.channels, n * h)
        out = F.conv2d(hid, w_out[..., None, None])
        if self.proj_out_bias is not None:
            out = out + (probs @ self.proj_out_bias)[..., None, None]
        return out

    def forward_selected(self, x: torch.Tensor, index: torch.Tensor,
                         gates: torch.Tensor) -> torch.Tensor:
        """``sum_j gates[:, j] * E_{index[:, j]}(x)``, each image running
        only its own ``k`` experts, with gathered per-image weights.

        Args:
            x (Tensor): Shape (B, C, H, W).
            index (Tensor): Selected experts, int64, shape (B, k).
            gates (Tensor): Their mixing weights, shape (B, k).

        Returns:
            Tensor: Shape (B, C, H, W).
        """
        b, c, height, width = x.shape
        k, h = index.size(1), self.hidden
        w_in = self.proj_in[index].flatten(1, 2)  # (B, k * 2h, C)
        if self.proj_in_bias is None:
            hid = torch.bmm(w_in, x.flatten(2))
        else:
            bias = self.proj_in_bias[index].flatten(1, 2)[..., None]
            hid = torch.baddbmm(bias, w_in, x.flatten(2))
        # a depth-wise conv with per-image weights: the batch as groups
        hid = F.conv2d(
            hid.reshape(1, b * k * 2 * h, height, width),
            self.dwconv[index].reshape(b * k * 2 * h, 1, 3, 3),
            self._flat(self.dwconv_bias, index),
            padding=1,
            groups=b * k * 2 * h)
        hid = self._finish(hid.reshape(b, k, 2 * h, height * width), gates)
        # (B, k, C, h) -> (B, C, k * h)
        w_out = self.proj_out[index].transpose(1, 2).flatten(2)
        out = torch.bmm(w_out, hid)
        if self.proj_out_bias is not None:
            out = out + (gates[..., None] *
                         self.proj_out_bias[index]).sum(1)[..., None]
        return out.reshape(b, c, height, width)

    @staticmethod
    def _flat(bias: Optional[torch.Tensor],
              index: Optional[torch.Tensor] = None) -> Optional[torch.Tensor]:
        if bias is None:
            return None
        return (bias if index is None else bias[index]).flatten()


class _MoEBase(nn.Module):

    hard = False

    def __init__(self, channels: int, num_experts: int, hidden: int,
                 noise_std: float, bias: bool) -> None:
        super().__init__()
        if num_experts < 1:
            raise ValueError(f'num_experts must be >= 1, got {num_experts}')
        self.num_experts = num_experts
        self.router = Router(channels, num_experts, noise_std)
        self.experts = ExpertBank(channels, num_experts, hidden, bias)

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
        # NaN entries: the layer routes those images itself. One exported
        # graph then serves both routed and self-routing inputs; the router
        # (a pooling and a linear layer) costs little.
        return torch.where(probs.isnan(), self.router(x), probs.to(x.dtype))


class SoftMoE(_MoEBase):
    """Soft mixture: all experts run, outputs are mixed by router weights.

    Args:
        channels (int): Input and output channels.
        num_experts (int): Number of experts.
        hidden (int): Hidden channels of each branch of one expert.
        noise_std (float): Router noise std in training.
        bias (bool): Use biases in the experts.
    """

    def forward(self,
                x: torch.Tensor,
                probs: Optional[torch.Tensor] = None) -> tuple:
        """Args:
            x (Tensor): Shape (B, C, H, W).
            probs (Tensor, optional): A fixed route, shape (B or 1, N); rows
                of NaN are routed by the layer's router.

        Returns:
            tuple[Tensor, RouteInfo]: Output (B, C, H, W) and the route.
        """
        probs = self._route(x, probs)
        out = self.experts.forward_all(x, probs)
        return out, RouteInfo(probs=probs, gates=probs, hard=False)


class HardMoE(_MoEBase):
    """Sparse top-k mixture: each image runs only its selected experts.

    Args:
        channels (int): Input and output channels.
        num_experts (int): Number of experts.
        hidden (int): Hidden channels of each branch of one expert.
        noise_std (float): Router noise std in training.
        bias (bool): Use biases in the experts.
        top_k (int): Experts per image.
        renormalize (bool): Rescale the top-k probabilities to sum to 1. The
            paper's formula does not.
    """

    hard = True

    def __init__(self,
                 channels: int,
                 num_experts: int,
                 hidden: int,
                 noise_std: float,
                 bias: bool = False,
                 top_k: int = 1,
                 renormalize: bool = False) -> None:
        super().__init__(channels, num_experts, hidden, noise_std, bias)
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
            probs (Tensor, optional): A fixed route, shape (B or 1, N); rows
                of NaN are routed by the layer's router.

        Returns:
            tuple[Tensor, RouteInfo]: Output (B, C, H, W) and the route.
        """
        probs = self._route(x, probs)
        top_p, top_idx = probs.topk(self.top_k, dim=-1)
        if self.renormalize:
            top_p = top_p / top_p.sum(dim=-1, keepdim=True)
        out = self.experts.forward_selected(x, top_idx, top_p)
        gates = torch.zeros_like(probs).scatter(1, top_idx, top_p)
        # from the indices: a selected expert's probability can underflow to 0
        mask = torch.zeros_like(probs, dtype=torch.bool).scatter(
            1, top_idx, torch.ones_like(top_idx, dtype=torch.bool))
        return out, RouteInfo(probs=probs, gates=gates, hard=True, mask=mask)


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
