"""Throughput and memory of the two vector levels of the distillation's
retrieval (K1 by caption-embedding L2 with faiss, K2 by image cosine among
them) on a synthetic knowledge base.

The synthetic base has clustered unit vectors (like real embeddings, unlike
uniform noise, which no index can partition); each query is a noisy copy of
a random entry. The base is written once (in a child process, so that its
memory does not count against the search) and reused from ``--kb-dir``.

Example (the recorded benchmark):
    python tools/analysis/benchmark_retrieval.py --num-entries 1000000 \\
        --kb-dir work_dirs/bench_kb_1m --index auto --search-params nprobe=16
"""
import argparse
import json
import multiprocessing as mp
import os.path as osp
import resource
import sys
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from unirain_mm import compat  # noqa: E402

compat.apply()  # before the encoders import torch/torchvision
from tqdm import tqdm  # noqa: E402

from unirain_mm.distill import KnowledgeBase, Retriever  # noqa: E402
from unirain_mm.distill.encoders import l2_normalize  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--num-entries', type=int, default=1_000_000)
    parser.add_argument('--dim', type=int, default=512,
                        help='embedding size (CLIP ViT-B/16: 512)')
    parser.add_argument('--clusters', type=int,
                        help='clusters of the synthetic vectors (default: '
                        'one per 500 entries)')
    parser.add_argument('--kb-dir', default='work_dirs/bench_retrieval_kb',
                        help='synthetic knowledge base, built if missing')
    parser.add_argument('--index', default='auto',
                        help="faiss factory string or 'auto'")
    parser.add_argument('--exact-max', type=int, default=100_000)
    parser.add_argument('--search-params', default='nprobe=16')
    parser.add_argument('--queries', type=int, default=20_000)
    parser.add_argument('--batch', type=int, default=500)
    parser.add_argument('--k1', type=int, default=100)
    parser.add_argument('--k2', type=int, default=20)
    parser.add_argument('--recall-queries', type=int, default=200,
                        help='queries checked against exact search')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def _synthetic(rng, centres: np.ndarray, n: int, spread: float):
    """Unit vectors (n, D) around random centres."""
    picks = rng.integers(0, len(centres), n)
    noise = rng.standard_normal((n, centres.shape[1])).astype(np.float32)
    return l2_normalize(centres[picks] + spread * noise / np.sqrt(
        centres.shape[1]))


def _centres(args, which: int) -> np.ndarray:
    rng = np.random.default_rng([args.seed, which])
    return l2_normalize(rng.standard_normal((args.clusters, args.dim)))


def _build(args) -> None:
    """Write the synthetic base and its index (run in a child process)."""
    kb = KnowledgeBase(args.kb_dir)
    text_c, image_c = _centres(args, 0), _centres(args, 1)
    chunk = 50_000
    bar = tqdm(total=args.num_entries, initial=len(kb), desc='synthetic kb',
               unit='vec')
    while len(kb) < args.num_entries:
        start = len(kb)
        n = min(chunk, args.num_entries - start)
        rng = np.random.default_rng([args.seed, 2, start])
        keys = [f'synthetic_{i:08d}' for i in range(start, start + n)]
        kb.append(keys, ['-'] * n, [''] * n,
                  _synthetic(rng, text_c, n, 0.8),
                  _synthetic(rng, image_c, n, 0.8),
                  np.zeros((n, 8, 8), np.uint8))
        bar.update(n)
    bar.close()
    kb.index(args.index, exact_max=args.exact_max)


def _queries(args, kb: KnowledgeBase):
    rng = np.random.default_rng([args.seed, 3])
    rows = np.sort(rng.choice(len(kb), args.queries, replace=False))
    jitter = 0.3 / np.sqrt(args.dim)
    text = l2_normalize(kb.text_vectors[rows] + jitter * rng.standard_normal(
        (len(rows), args.dim)))
    image = l2_normalize(kb.image_vectors[rows] + jitter *
                         rng.standard_normal((len(rows), args.dim)))
    return text, image


def _exact_k1(kb: KnowledgeBase, text_q: np.ndarray, k: int) -> np.ndarray:
    """Exact K1 ids (Q, k) by brute force over the memory-mapped base."""
    best_d = np.full((len(text_q), 0), np.inf, np.float32)
    best_i = np.zeros((len(text_q), 0), np.int64)
    vectors = kb.text_vectors
    for lo in range(0, len(kb), 200_000):
        block = np.asarray(vectors[lo:lo + 200_000])
        d = 2 - 2 * text_q @ block.T  # unit vectors: squared L2
        d = np.concatenate([best_d, d], 1)
        i = np.concatenate(
            [best_i, np.broadcast_to(np.arange(lo, lo + len(block)),
                                     (len(text_q), len(block)))], 1)
        top = np.argpartition(d, k - 1, axis=1)[:, :k]
        best_d = np.take_along_axis(d, top, 1)
        best_i = np.take_along_axis(i, top, 1)
    return best_i


def _peak_rss_mib(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.clusters = args.clusters or max(1, args.num_entries // 500)
    t0 = time.perf_counter()
    if len(KnowledgeBase(args.kb_dir)) != args.num_entries:
        if len(KnowledgeBase(args.kb_dir)) > args.num_entries:
            raise SystemExit(f'{args.kb_dir} holds more than '
                             f'{args.num_entries} entries; use another dir')
        child = mp.get_context('fork').Process(target=_build, args=(args, ))
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit(f'building {args.kb_dir} failed')
    build_s = time.perf_counter() - t0

    kb = KnowledgeBase(args.kb_dir)
    t0 = time.perf_counter()
    ret = Retriever(kb, k1=args.k1, k2=args.k2, k3=1,
                    index=dict(spec=args.index, exact_max=args.exact_max,
                               search_params=args.search_params))
    load_s = time.perf_counter() - t0
    text_q, image_q = _queries(args, kb)
    ret.vector_search(text_q[:args.batch], image_q[:args.batch])  # warm-up
    level1 = both = 0.0
    approx_k1, final = [], []
    for lo in tqdm(range(0, len(text_q), args.batch), desc='search',
                   unit='batch'):
        tq, iq = text_q[lo:lo + args.batch], image_q[lo:lo + args.batch]
        t = time.perf_counter()
        _, ids = ret.index.search(tq, args.k1)
        level1 += time.perf_counter() - t
        t = time.perf_counter()
        hits = ret.vector_search(tq, iq)
        both += time.perf_counter() - t
        if lo < args.recall_queries:
            approx_k1.append(ids)
            final.append(hits.ids)
    rss_search = _peak_rss_mib()  # before the exact check below
    n_check = min(args.recall_queries, len(text_q))
    exact = _exact_k1(kb, text_q[:n_check], args.k1)
    approx = np.concatenate(approx_k1)[:n_check]
    recall = np.mean([len(set(a) & set(e)) / args.k1
                      for a, e in zip(approx, exact)])
    # K2 recall: level 2 applied to the exact K1 sets
    rows = exact
    cos = np.matmul(kb.image_vectors[rows.ravel()].reshape(
        *rows.shape, -1), image_q[:n_check, :, None])[..., 0]
    exact_k2 = np.take_along_axis(
        rows, np.argsort(-cos, axis=1)[:, :args.k2], 1)
    got_k2 = np.concatenate(final)[:n_check]
    recall2 = np.mean([len(set(a) & set(e)) / args.k2
                       for a, e in zip(got_k2, exact_k2)])
    result = dict(
        num_entries=len(kb), dim=args.dim, index=type(ret.index).__name__,
        index_spec=args.index, search_params=args.search_params,
        k1=args.k1, k2=args.k2, queries=len(text_q), batch=args.batch,
        build_or_reuse_s=round(build_s, 1), index_load_s=round(load_s, 1),
        level1_qps=round(len(text_q) / level1),
        levels12_qps=round(len(text_q) / both),
        recall_k1=round(float(recall), 4), recall_k2=round(float(recall2), 4),
        peak_rss_search_mib=round(rss_search),
        peak_rss_build_mib=round(_peak_rss_mib(resource.RUSAGE_CHILDREN)))
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
