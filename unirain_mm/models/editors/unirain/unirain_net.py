"""UniRainNet: a Restormer-style U-Net with an asymmetric mixture of experts.

Written for this project from the published descriptions (transposed
self-attention, gated depth-wise feed-forward, pixel-(un)shuffle resampling);
no code was taken from the Restormer repository.

Layout (``C = dim``)::

    input -> conv3x3 -> enc1 (C) -> down -> enc2 (2C) -> down -> enc3 (4C)
          -> down -> latent (8C) -> up -> [cat enc3, 1x1] -> dec3 (4C)
          -> up -> [cat enc2, 1x1] -> dec2 (2C) -> up -> [cat enc1]
          -> dec1 (2C) -> refinement (2C) -> conv3x3 -> + input

In the last ``encoder_moe_blocks[i]`` blocks of encoder level ``i`` the
feed-forward network is a :class:`SoftMoE`; in the last
``decoder_moe_blocks[i]`` blocks of decoder level ``i`` (ordered dec3, dec2,
dec1) it is a :class:`HardMoE` (``encoder_moe`` and ``decoder_moe`` swap
the kinds for the paper's ablations). Experts are gated feed-forward
networks.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from .moe import HardMoE, RouteInfo, SoftMoE

#: The kinds of MoE layer an encoder or decoder can use.
MOE_KINDS = ('soft', 'hard')


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether the channels of a (B, C, H, W) tensor are innermost in
    memory (``torch.channels_last``)."""
    return x.stride(1) == 1 and x.size(1) > 1


class LayerNorm2d(nn.Module):
    """Layer normalisation over the channels of a (B, C, H, W) tensor.

    On a channels-last tensor it is one fused ``F.layer_norm`` over the
    channels-last view (one read, one write). On NCHW, where the channels are
    strided and ``F.layer_norm`` would need two transposing copies, it is the
    explicit mean / variance formula. The output keeps the input's memory
    format.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if is_channels_last(x):
            return F.layer_norm(
                x.permute(0, 2, 3, 1), self.weight.shape, self.weight,
                self.bias, self.eps).permute(0, 3, 1, 2)
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class TransposedAttention(nn.Module):
    """Multi-head self-attention across channels (cost linear in H*W).

    Queries, keys and values come from a 1x1 and a depth-wise 3x3 conv. The
    attention map is (C/heads x C/heads) per head, computed from L2-normalised
    queries and keys scaled by a learned per-head temperature.

    Args:
        dim (int): Channels.
        num_heads (int): Heads; must divide ``dim``.
        bias (bool): Use biases in the convolutions.
    """

    def __init__(self, dim: int, num_heads: int, bias: bool) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} not divisible by heads {num_heads}')
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(
            dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.proj = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        channels_last = is_channels_last(x)
        q, k, v = self.qkv_dwconv(self.to_qkv(x)).chunk(3, dim=1)
        # Dividing the (C/heads)^2 product by the norms equals normalising q
        # and k (F.normalize, eps 1e-12) without writing normalised copies.
        # (The norm kernel is slow over strided pixels; a sum is not.)
        q_norm, k_norm = ((t * t).sum((2, 3)).sqrt() if channels_last else
                          torch.linalg.vector_norm(t, dim=(2, 3))
                          for t in (q, k))
        q_norm, k_norm = (n.clamp_min(1e-12).view(b, self.num_heads, -1, 1)
                          for n in (q_norm, k_norm))
        shape = (b, self.num_heads, c // self.num_heads, h * w)
        q, k, v = q.reshape(shape), k.reshape(shape), v.reshape(shape)
        attn = (q @ k.transpose(-2, -1)) / (q_norm * k_norm.transpose(-2, -1))
        attn = (attn * self.temperature).softmax(dim=-1)
        if not channels_last:
            return self.proj((attn @ v).reshape(b, c, h, w))
        # (v^T attn^T) is the output with the channels innermost
        out = v.transpose(-2, -1) @ attn.transpose(-2, -1)
        out = out.transpose(1, 2).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return self.proj(out)


class GatedFeedForward(nn.Module):
    """Gated depth-wise feed-forward network: ``W2(GELU(a) * g)``.

    Args:
        dim (int): Input and output channels.
        hidden (int): Hidden channels of each branch.
        bias (bool): Use biases in the convolutions.
    """

    def __init__(self, dim: int, hidden: int, bias: bool) -> None:
        super().__init__()
        self.proj_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(
            hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2, bias=bias)
        self.proj_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act, gate = self.dwconv(self.proj_in(x)).chunk(2, dim=1)
        return self.proj_out(F.gelu(act) * gate)


class TransformerBlock(nn.Module):
    """Pre-norm block: attention, then a feed-forward network or an MoE.

    Args:
        dim (int): Channels.
        num_heads (int): Attention heads.
        ffn (nn.Module): A :class:`GatedFeedForward`, :class:`SoftMoE` or
            :class:`HardMoE`.
        bias (bool): Use biases in the attention convolutions.
    """

    def __init__(self, dim: int, num_heads: int, ffn: nn.Module,
                 bias: bool) -> None:
        super().__init__()
        self.norm1 = LayerNorm2d(dim)
        self.attn = TransposedAttention(dim, num_heads, bias)
        self.norm2 = LayerNorm2d(dim)
        self.ffn = ffn
        self.is_moe = isinstance(ffn, (SoftMoE, HardMoE))

    def forward(
        self,
        x: torch.Tensor,
        route: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, Optional[RouteInfo]]:
        x = x + self.attn(self.norm1(x))
        if not self.is_moe:
            return x + self.ffn(self.norm2(x)), None
        y, info = self.ffn(self.norm2(x), route)
        return x + y, info


class Downsample(nn.Sequential):
    """Halve H and W, double the channels (conv then pixel-unshuffle)."""

    def __init__(self, channels: int) -> None:
        super().__init__(
            nn.Conv2d(channels, channels // 2, 3, padding=1, bias=False),
            nn.PixelUnshuffle(2))


class Upsample(nn.Sequential):
    """Double H and W, halve the channels (conv then pixel-shuffle)."""

    def __init__(self, channels: int) -> None:
        super().__init__(
            nn.Conv2d(channels, channels * 2, 3, padding=1, bias=False),
            nn.PixelShuffle(2))


@MODELS.register_module()
class UniRainNet(nn.Module):
    """UniRain deraining network: Soft-MoE encoder, Hard-MoE decoder.

    Paper configuration (the defaults): 24.14M parameters in total (paper:
    24.4M) and, at 256x256 on the active path, 136.5 G multiply-accumulates by
    mmengine's ``FlopAnalyzer``, which counts the attention matrix products,
    or 122.6 G without them, the convention of the paper's 126.5 G. (The
    same counter reads Restormer as 154.9 G / 141.0 G.) Placement chosen to
    get there: Restormer's widths and depths (``dim`` 48, blocks 4/6/6/8,
    4 refinement blocks, heads 1/2/4/8); dense feed-forward expansion 2.0;
    the last 2 blocks of every encoder level use a Soft-MoE of 3 experts of
    expansion 1.0 each (all run, so together they cost 1.5x a dense FFN);
    the last 2 blocks of every decoder level use a Hard-MoE of 3 experts of
    expansion 2.0 each (top-1 runs one, so it costs a dense FFN while holding
    3x its parameters). ``tools/analysis/get_flops.py`` reproduces the
    counts.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        dim (int): Channels of the first level.
        num_blocks (Sequence[int]): Blocks of enc1, enc2, enc3 and latent;
            the decoder mirrors enc3..enc1.
        num_refinement_blocks (int): Blocks after the decoder.
        num_heads (Sequence[int]): Attention heads per level (4 values).
        ffn_expansion (float): Hidden width of dense feed-forward networks as
            a multiple of the channels.
        soft_expert_expansion (float): The same, per Soft-MoE expert.
        hard_expert_expansion (float): The same, per Hard-MoE expert.
        encoder_moe_blocks (Sequence[int]): MoE blocks at the end of enc1,
            enc2 and enc3.
        decoder_moe_blocks (Sequence[int]): MoE blocks at the end of dec3,
            dec2 and dec1.
        encoder_moe (str): Kind of the encoder's MoE layers, ``'soft'``
            (default, the paper's) or ``'hard'``; with ``decoder_moe`` it
            builds the paper's Table 6 ablations (Soft+Soft, Hard+Hard,
            Hard+Soft). An MoE layer's expert width follows its kind
            (``soft_expert_expansion`` or ``hard_expert_expansion``).
        decoder_moe (str): Kind of the decoder's MoE layers, ``'hard'``
            (default, the paper's) or ``'soft'``.
        num_experts (int): Experts per MoE layer (1: the single-expert
            ablation, a dense feed-forward network behind a router).
        top_k (int): Experts run per image in the Hard-MoE layers.
        renormalize (bool): Renormalise the top-k router probabilities.
        router_noise_std (float): Std of the router logit noise (training).
        bias (bool): Use biases in attention and feed-forward convolutions.
        channels_last (bool): Run in the channels-last memory format (the
            input is converted on entry; the output is channels-last). Same
            results; on the CPU it is faster (``docs/benchmarks.md``), which
            is why the inferencer turns it on there. An attribute that can be
            set after building.
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_channels: int = 3,
                 dim: int = 48,
                 num_blocks: Sequence[int] = (4, 6, 6, 8),
                 num_refinement_blocks: int = 4,
                 num_heads: Sequence[int] = (1, 2, 4, 8),
                 ffn_expansion: float = 2.0,
                 soft_expert_expansion: float = 1.0,
                 hard_expert_expansion: float = 2.0,
                 encoder_moe_blocks: Sequence[int] = (2, 2, 2),
                 decoder_moe_blocks: Sequence[int] = (2, 2, 2),
                 encoder_moe: str = 'soft',
                 decoder_moe: str = 'hard',
                 num_experts: int = 3,
                 top_k: int = 1,
                 renormalize: bool = False,
                 router_noise_std: float = 1.0,
                 bias: bool = False,
                 channels_last: bool = False) -> None:
        super().__init__()
        if len(num_blocks) != 4 or len(num_heads) != 4:
            raise ValueError('num_blocks and num_heads need 4 values, got '
                             f'{num_blocks} and {num_heads}')
        for name, moe in (('encoder_moe_blocks', encoder_moe_blocks),
                          ('decoder_moe_blocks', decoder_moe_blocks)):
            depths = num_blocks[:3] if name[0] == 'e' else num_blocks[2::-1]
            if len(moe) != 3 or any(m > d for m, d in zip(moe, depths)):
                raise ValueError(f'{name}={tuple(moe)} must have 3 values, '
                                 f'each at most the level depth {depths}')
        for name, kind in (('encoder_moe', encoder_moe),
                           ('decoder_moe', decoder_moe)):
            if kind not in MOE_KINDS:
                raise ValueError(f'{name} must be one of {MOE_KINDS}, got '
                                 f'{kind!r}')
        enc_hard, dec_hard = encoder_moe == 'hard', decoder_moe == 'hard'
        self.pad_multiple = 8  # three 2x downsamplings
        self.channels_last = channels_last

        def stage(channels: int, heads: int, depth: int, num_moe: int,
                  hard: bool) -> nn.ModuleList:
            blocks = []
            for i in range(depth):
                if i < depth - num_moe:
                    ffn = GatedFeedForward(channels,
                                           int(channels * ffn_expansion), bias)
                elif hard:
                    ffn = HardMoE(channels, num_experts,
                                  int(channels * hard_expert_expansion),
                                  router_noise_std, bias, top_k, renormalize)
                else:
                    ffn = SoftMoE(channels, num_experts,
                                  int(channels * soft_expert_expansion),
                                  router_noise_std, bias)
                blocks.append(TransformerBlock(channels, heads, ffn, bias))
            return nn.ModuleList(blocks)

        c1, c2, c3, c4 = dim, dim * 2, dim * 4, dim * 8
        h1, h2, h3, h4 = num_heads
        self.embed = nn.Conv2d(in_channels, c1, 3, padding=1, bias=bias)
        self.enc1 = stage(c1, h1, num_blocks[0], encoder_moe_blocks[0],
                          enc_hard)
        self.down1 = Downsample(c1)
        self.enc2 = stage(c2, h2, num_blocks[1], encoder_moe_blocks[1],
                          enc_hard)
        self.down2 = Downsample(c2)
        self.enc3 = stage(c3, h3, num_blocks[2], encoder_moe_blocks[2],
                          enc_hard)
        self.down3 = Downsample(c3)
        self.latent = stage(c4, h4, num_blocks[3], 0, False)
        self.up3 = Upsample(c4)
        self.fuse3 = nn.Conv2d(c4, c3, 1, bias=bias)
        self.dec3 = stage(c3, h3, num_blocks[2], decoder_moe_blocks[0],
                          dec_hard)
        self.up2 = Upsample(c3)
        self.fuse2 = nn.Conv2d(c3, c2, 1, bias=bias)
        self.dec2 = stage(c2, h2, num_blocks[1], decoder_moe_blocks[1],
                          dec_hard)
        self.up1 = Upsample(c2)
        self.dec1 = stage(c2, h1, num_blocks[0], decoder_moe_blocks[2],
                          dec_hard)
        self.refine = stage(c2, h1, num_refinement_blocks, 0, False)
        self.head = nn.Conv2d(c2, out_channels, 3, padding=1, bias=bias)
        self.residual = in_channels == out_channels

    @property
    def num_moe_layers(self) -> int:
        """Number of MoE layers, i.e. the length of a route."""
        return sum(isinstance(m, (SoftMoE, HardMoE)) for m in self.modules())

    @staticmethod
    def _run_stage(blocks: nn.ModuleList, x: torch.Tensor,
                   given: Optional[Sequence[torch.Tensor]],
                   produced: List[RouteInfo]) -> torch.Tensor:
        for block in blocks:
            route = given[len(produced)] if (block.is_moe
                                             and given is not None) else None
            x, info = block(x, route)
            if info is not None:
                produced.append(info)
        return x

    def forward_with_routes(
        self,
        x: torch.Tensor,
        routes: Optional[Sequence[torch.Tensor]] = None
    ) -> Tuple[torch.Tensor, List[RouteInfo]]:
        """Restore a batch and report every MoE layer's routing.

        Args:
            x (Tensor): Rainy images, shape (B, C_in, H, W), any H and W.
            routes (Sequence[Tensor], optional): A fixed route per MoE layer,
                each (B, N) or (1, N), e.g. ``[r.probs for r in infos]`` from
                a downscaled copy of the whole image. None routes each image
                from its own features.

        Returns:
            tuple[Tensor, list[RouteInfo]]: Restored images (B, C_out, H, W)
            and one :class:`RouteInfo` per MoE layer, encoder first.
        """
        if routes is not None and len(routes) != self.num_moe_layers:
            raise ValueError(f'expected {self.num_moe_layers} routes, '
                             f'got {len(routes)}')
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % self.pad_multiple, (-w) % self.pad_multiple
        if pad_h or pad_w:
            mode = 'reflect' if pad_h < h and pad_w < w else 'replicate'
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        out, infos = self.forward_padded(x, routes)
        return out[..., :h, :w], infos

    def forward_padded(
        self,
        x: torch.Tensor,
        routes: Optional[Sequence[torch.Tensor]] = None
    ) -> Tuple[torch.Tensor, List[RouteInfo]]:
        """:meth:`forward_with_routes` for H and W that are multiples of
        :attr:`pad_multiple` (no padding, no Python branch on the size: the
        graph that ONNX export traces)."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        infos: List[RouteInfo] = []
        e1 = self._run_stage(self.enc1, self.embed(x), routes, infos)
        e2 = self._run_stage(self.enc2, self.down1(e1), routes, infos)
        e3 = self._run_stage(self.enc3, self.down2(e2), routes, infos)
        z = self._run_stage(self.latent, self.down3(e3), routes, infos)
        d3 = self.fuse3(torch.cat([self.up3(z), e3], dim=1))
        d3 = self._run_stage(self.dec3, d3, routes, infos)
        d2 = self.fuse2(torch.cat([self.up2(d3), e2], dim=1))
        d2 = self._run_stage(self.dec2, d2, routes, infos)
        d1 = torch.cat([self.up1(d2), e1], dim=1)
        d1 = self._run_stage(self.dec1, d1, routes, infos)
        out = self.head(self._run_stage(self.refine, d1, routes, infos))
        if self.residual:
            out = out + x
        return out, infos

    def forward(
            self,
            x: torch.Tensor,
            routes: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
        """Restore a batch.

        Args:
            x (Tensor): Rainy images, shape (B, C_in, H, W).
            routes (Sequence[Tensor], optional): Fixed routes, see
                :meth:`forward_with_routes`.

        Returns:
            Tensor: Restored images, shape (B, C_out, H, W).
        """
        return self.forward_with_routes(x, routes)[0]

    @torch.no_grad()
    def compute_routes(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Router probabilities of every MoE layer for ``x``.

        Run it on a downscaled copy of a large image and pass the result to
        :meth:`forward` for each tile, so that all tiles use the same experts.

        Args:
            x (Tensor): Images, shape (B, C_in, H, W).

        Returns:
            list[Tensor]: One (B, num_experts) tensor per MoE layer.
        """
        return [info.probs for info in self.forward_with_routes(x)[1]]
