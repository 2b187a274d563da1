"""Three-level retrieval of real rainy references for a batch of queries.

1. K1 nearest captions: L2 distance of caption embeddings (faiss).
2. K2 of those with the largest image-embedding cosine similarity.
3. K3 of those with the largest SSIM of grey thumbnails at a common size.

Every level works on the whole batch at once: one faiss search, one batched
matrix product, one batched SSIM.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from .knowledge_base import KnowledgeBase


@dataclass
class Hits:
    """References of a batch of B queries, K per query, best first.

    Attributes:
        ids (np.ndarray): (B, K) int64 knowledge-base rows; -1 where the base
            holds fewer than K candidates.
        text_l2 (np.ndarray): (B, K) float32 caption-embedding L2 distance.
        image_cos (np.ndarray): (B, K) float32 image-embedding cosine.
        ssim (np.ndarray, optional): (B, K) float32 thumbnail SSIM.
    """
    ids: np.ndarray
    text_l2: np.ndarray
    image_cos: np.ndarray
    ssim: Optional[np.ndarray] = None

    def take(self, order: np.ndarray) -> 'Hits':
        """Columns ``order`` (B, K') of every field, per row."""

        def pick(a):
            return None if a is None else np.take_along_axis(a, order, 1)

        return Hits(pick(self.ids), pick(self.text_l2), pick(self.image_cos),
                    pick(self.ssim))


def _top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Column order (B, k) of the k largest ``scores`` per row, ties broken
    by the smaller id so that the result does not depend on batching."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] \
        if k < scores.shape[1] else np.tile(np.arange(k), (len(scores), 1))
    s = np.take_along_axis(scores, part, 1)
    i = np.take_along_axis(ids, part, 1)
    order = np.lexsort((i, -s), axis=1)
    return np.take_along_axis(part, order, 1)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    w = torch.exp(-x**2 / (2 * sigma**2))
    return w / w.sum()


def _blur(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter without padding of (N, 1, S, S)."""
    x = F.conv2d(x, window.view(1, 1, 1, -1))
    return F.conv2d(x, window.view(1, 1, -1, 1))


def ssim_to_references(query: torch.Tensor,
                       refs: torch.Tensor) -> torch.Tensor:
    """Mean SSIM (Gaussian window 11, sigma 1.5) of each query against each
    of its references, for grey images on a 0-255 scale.

    Args:
        query (torch.Tensor): (B, S, S) query thumbnails.
        refs (torch.Tensor): (B, K, S, S) reference thumbnails.

    Returns:
        torch.Tensor: (B, K) SSIM values.
    """
    b, k, s, _ = refs.shape
    window = _gaussian_window().to(query.device)
    c1, c2 = (0.01 * 255)**2, (0.03 * 255)**2
    x = query.float().unsqueeze(1)  # (B, 1, S, S)
    y = refs.float().reshape(b * k, 1, s, s)

    def per_ref(t):  # (B*K, 1, S', S') -> (B, K, S', S')
        return t.view(b, k, *t.shape[-2:])

    # Query statistics are computed once and broadcast over its K refs.
    mu_x, mu_y = _blur(x, window), per_ref(_blur(y, window))
    var_x = _blur(x * x, window) - mu_x**2
    var_y = per_ref(_blur(y * y, window)) - mu_y**2
    cov = per_ref(_blur((x.unsqueeze(1) * y.view(b, k, 1, s, s)).view(
        b * k, 1, s, s), window)) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim.flatten(2).mean(2)


class Retriever:
    """K1 -> K2 -> K3 retrieval against a :class:`KnowledgeBase`.

    Args:
        kb (KnowledgeBase): The reference photos.
        k1 (int): Candidates kept by caption-embedding L2 distance.
        k2 (int): Of those, kept by image-embedding cosine similarity.
        k3 (int): Of those, kept by SSIM.
        index (dict, optional): Keyword arguments of
            :meth:`KnowledgeBase.index` plus ``search_params``, a faiss
            parameter string such as ``'nprobe=16'`` or ``'efSearch=64'``
            (ignored by exact indexes, so that ``spec='auto'`` can carry
            the setting it needs above ``exact_max``).
        device (str): Where the SSIM runs, e.g. ``'cuda'``.
    """

    def __init__(self,
                 kb: KnowledgeBase,
                 k1: int = 100,
                 k2: int = 20,
                 k3: int = 3,
                 index: Optional[dict] = None,
                 device: str = 'cpu') -> None:
        import faiss
        if not k1 >= k2 >= k3 >= 1:
            raise ValueError(f'need k1 >= k2 >= k3 >= 1, got {k1}, {k2}, '
                             f'{k3}')
        self.kb, self.k1, self.k2, self.k3 = kb, k1, k2, k3
        index = dict(index or {})
        search_params = index.pop('search_params', None)
        self.index = kb.index(**index)
        if search_params and not isinstance(self.index, faiss.IndexFlat):
            faiss.ParameterSpace().set_index_parameters(
                self.index, search_params)
        self.device = torch.device(device)

    def vector_search(self, text_q: np.ndarray,
                      image_q: np.ndarray) -> Hits:
        """Levels 1 and 2.

        Args:
            text_q (np.ndarray): (B, D_text) unit caption embeddings.
            image_q (np.ndarray): (B, D_image) unit image embeddings.

        Returns:
            Hits: K2 references per query by descending cosine.
        """
        k1 = min(self.k1, len(self.kb))
        _, ids = self.index.search(
            np.ascontiguousarray(text_q, dtype=np.float32), k1)
        valid = ids >= 0
        rows = np.where(valid, ids, 0)
        refs = self.kb.image_vectors[rows.ravel()].reshape(
            *rows.shape, -1)  # (B, K1, D)
        cos = np.matmul(refs, image_q[:, :, None].astype(np.float32))[..., 0]
        cos[~valid] = -np.inf
        order = _top_k(cos, ids, self.k2)
        top = np.take_along_axis(np.where(valid, ids, -1), order, 1)
        # The survivors' caption distances are recomputed exactly:
        # compressed indexes (SQ, PQ) return approximations, and exact
        # values do not depend on how the queries were batched.
        ok = top >= 0
        text = self.kb.text_vectors[np.where(ok, top, 0).ravel()]
        l2 = np.linalg.norm(text.reshape(*top.shape, -1) - text_q[:, None],
                            axis=2)
        return Hits(top, np.where(ok, l2, np.inf).astype(np.float32),
                    np.take_along_axis(cos, order, 1))

    def rerank_ssim(self, query_thumbs: np.ndarray, hits: Hits) -> Hits:
        """Level 3.

        Args:
            query_thumbs (np.ndarray): (B, S, S) uint8 grey query
                thumbnails at the knowledge base's thumbnail size.
            hits (Hits): Output of :meth:`vector_search`.

        Returns:
            Hits: K3 references per query by descending SSIM, with ``ssim``.
        """
        valid = hits.ids >= 0
        refs = self.kb.thumbs[np.where(valid, hits.ids, 0).ravel()]
        refs = refs.reshape(*hits.ids.shape, *refs.shape[1:])
        with torch.no_grad():
            ssim = ssim_to_references(
                torch.from_numpy(np.ascontiguousarray(query_thumbs)).to(
                    self.device),
                torch.from_numpy(refs).to(self.device)).cpu().numpy()
        ssim[~valid] = -np.inf
        hits = Hits(hits.ids, hits.text_l2, hits.image_cos, ssim)
        return hits.take(_top_k(ssim, hits.ids, self.k3))

    def search(self, text_q: np.ndarray, image_q: np.ndarray,
               query_thumbs: np.ndarray) -> Hits:
        """All three levels; see :meth:`vector_search` and
        :meth:`rerank_ssim`."""
        return self.rerank_ssim(query_thumbs,
                                self.vector_search(text_q, image_q))
