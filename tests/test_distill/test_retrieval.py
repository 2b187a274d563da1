"""Three-level retrieval: each level filters the survivors of the one
before; the batched SSIM matches scikit-image."""
import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from unirain_mm.distill import KnowledgeBase, Retriever
from unirain_mm.distill.encoders import l2_normalize
from unirain_mm.distill.retrieval import ssim_to_references


def test_ssim_matches_skimage():
    rng = np.random.default_rng(0)
    q = rng.integers(0, 255, (2, 24, 24)).astype(np.uint8)
    refs = np.stack([q, (q // 2 + 40).astype(np.uint8),
                     rng.integers(0, 255, (2, 24, 24)).astype(np.uint8)], 1)
    got = ssim_to_references(torch.from_numpy(q),
                             torch.from_numpy(refs)).numpy()
    want = [[structural_similarity(q[b], refs[b, k], gaussian_weights=True,
                                   sigma=1.5, use_sample_covariance=False,
                                   data_range=255) for k in range(3)]
            for b in range(2)]
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.fixture
def planted(tmp_path):
    """60 entries; entries 0-9 share the query's caption direction, of
    those 2, 5, 7 share its image direction, and 5 is its thumbnail."""
    rng = np.random.default_rng(0)
    n, d = 60, 16
    text = rng.normal(size=(n, d))
    image = rng.normal(size=(n, d))
    q_text, q_image = rng.normal(size=d), rng.normal(size=d)
    text[:10] = q_text + 0.1 * rng.normal(size=(10, d))
    image[[2, 5, 7]] = q_image + 0.2 * rng.normal(size=(3, d))
    image[30] = q_image  # best image match, but far in caption space
    q_thumb = rng.integers(0, 255, (16, 16)).astype(np.uint8)
    thumbs = rng.integers(0, 255, (n, 16, 16)).astype(np.uint8)
    thumbs[5] = q_thumb
    kb = KnowledgeBase(str(tmp_path / 'kb'))
    kb.append([f'k{i}' for i in range(n)], ['p'] * n, ['c'] * n,
              l2_normalize(text), l2_normalize(image), thumbs)
    queries = (l2_normalize(np.stack([q_text, -q_text])),
               l2_normalize(np.stack([q_image, -q_image])),
               np.stack([q_thumb, q_thumb]))
    return kb, queries


def test_three_levels(planted):
    kb, (tq, iq, thumbs) = planted
    ret = Retriever(kb, k1=10, k2=3, k3=2)
    hits = ret.vector_search(tq, iq)
    assert hits.ids.shape == (2, 3)
    assert set(hits.ids[0]) == {2, 5, 7}  # 30 fell at level 1
    assert np.all(np.diff(hits.image_cos, axis=1) <= 0)
    final = ret.rerank_ssim(thumbs, hits)
    assert final.ids.shape == (2, 2) and final.ids[0, 0] == 5
    assert final.ssim[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert set(final.ids[0]) <= {2, 5, 7}
    # scores travel with their ids
    row = list(hits.ids[0]).index(final.ids[0, 1])
    assert final.image_cos[0, 1] == hits.image_cos[0, row]
    np.testing.assert_allclose(
        final.text_l2[0], np.linalg.norm(
            kb.text_vectors[final.ids[0]] - tq[0], axis=1), rtol=1e-4)


def test_small_base_and_short_ivf_lists(tmp_path):
    rng = np.random.default_rng(1)
    n = 60
    kb = KnowledgeBase(str(tmp_path / 'kb'))
    kb.append([f'k{i}' for i in range(n)], ['p'] * n, ['c'] * n,
              l2_normalize(rng.normal(size=(n, 4))),
              l2_normalize(rng.normal(size=(n, 4))),
              rng.integers(0, 255, (n, 16, 16)).astype(np.uint8))
    args = (l2_normalize(rng.normal(size=(1, 4))),
            l2_normalize(rng.normal(size=(1, 4))),
            rng.integers(0, 255, (1, 16, 16)).astype(np.uint8))
    hits = Retriever(kb, k1=100, k2=70, k3=65).search(*args)
    assert sorted(hits.ids[0]) == list(range(n))  # K1 capped at the base
    # One probed list of four holds fewer than K2 entries: -1 pads the end.
    hits = Retriever(kb, k1=50, k2=30, k3=25,
                     index=dict(spec='IVF4,Flat',
                                search_params='nprobe=1')).search(*args)
    pad = hits.ids[0] == -1
    assert pad.any() and not pad[0] and np.all(np.diff(pad.astype(int)) >= 0)
    assert np.all(hits.ssim[0][pad] == -np.inf)


def test_approximate_index_option(planted):
    kb, (tq, iq, thumbs) = planted
    ret = Retriever(kb, k1=10, k2=3, k3=2,
                    index=dict(spec='IVF2,Flat', search_params='nprobe=2'))
    assert ret.index.nprobe == 2
    assert set(ret.vector_search(tq, iq).ids[0]) == {2, 5, 7}
    with pytest.raises(ValueError, match='k1 >= k2'):
        Retriever(kb, k1=2, k2=3, k3=1)
