"""The distillation pipeline: build the knowledge base, judge every query
shard by shard, then merge, pack the kept pairs and report.

Config sections (see ``configs/distill/``): ``kb`` (root, photo sources,
``ssim_size``, ``index``), ``queries``, ``encoders`` (captioner, embedder,
batch size), ``retrieval`` (k1, k2, k3), ``judges``, ``prompt``, ``vote``
(quorum), ``loader`` (query batch size, workers), ``pack``, ``report``.
"""
import os.path as osp
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from unirain_mm.datasets.pairs import PairRecord
from .encoders import build_encoders, encoder_signature, resolve_device
from .images import fit_max_side, grey_thumb, read_rgb
from .judges import BaseJudge, JudgeQuery
from .knowledge_base import KnowledgeBase
from .registry import JUDGES
from .results import (ShardWriter, latest_records, merge_shards,
                      read_manifest, shard_path)
from .retrieval import Hits, Retriever
from .sources import load_photos, load_queries
from .vote import KEEP, REJECT, quorum_vote

MANIFEST = 'manifest.jsonl'


class _ImageFiles(Dataset):
    """Reads images for the encoders: RGB shrunk to ``max_side`` and a grey
    thumbnail for the SSIM. An unreadable file yields its error instead."""

    def __init__(self, paths: Sequence[str], max_side: int,
                 thumb_size: int) -> None:
        self.paths = paths
        self.max_side = max_side
        self.thumb_size = thumb_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict:
        try:
            img = read_rgb(self.paths[i])
        except FileNotFoundError as e:
            return dict(index=i, error=str(e))
        return dict(index=i, image=fit_max_side(img, self.max_side),
                    thumb=grey_thumb(img, self.thumb_size))


def _image_batches(paths: Sequence[str], thumb_size: int, batch_size: int,
                   num_workers: int = 0, max_side: int = 512) -> DataLoader:
    return DataLoader(
        _ImageFiles(paths, max_side, thumb_size), batch_size=batch_size,
        num_workers=num_workers, collate_fn=list, shuffle=False)


def _split_readable(batch: List[dict]):
    good = [item for item in batch if 'error' not in item]
    bad = [item for item in batch if 'error' in item]
    return good, bad


def build_knowledge_base(cfg, progress: bool = True) -> KnowledgeBase:
    """Encode the photos the knowledge base lacks, append them, and bring
    the faiss index up to date. Photos already in it are skipped, so a
    killed build resumes and new photos can be added later.

    Args:
        cfg (Config): The distillation config.
        progress (bool): Show progress bars.

    Returns:
        KnowledgeBase: The updated knowledge base.
    """
    logger = MMLogger.get_current_instance()
    kb = KnowledgeBase(cfg.kb.root)
    signature = encoder_signature(cfg.encoders)
    kb.check_signature(signature)
    done = kb.keys()
    todo = [p for p in load_photos(cfg.kb.sources) if p[0] not in done]
    print_log(f'knowledge base {cfg.kb.root}: {len(kb)} entries, '
              f'{len(todo)} photos to add', logger)
    if todo:
        captioner, embedder = build_encoders(cfg.encoders)
        loader = _image_batches([p for _, p in todo],
                                cfg.kb.get('ssim_size', 128),
                                cfg.encoders.get('batch_size', 32),
                                cfg.get('loader', {}).get('num_workers', 0))
        for batch in tqdm(loader, desc='knowledge base', unit='batch',
                          disable=not progress):
            good, bad = _split_readable(batch)
            for item in bad:
                print_log(f'skipped: {item["error"]}', logger, 'WARNING')
            if not good:
                continue
            images = [item['image'] for item in good]
            captions = captioner.caption(images)
            picked = [todo[item['index']] for item in good]
            kb.append([k for k, _ in picked], [p for _, p in picked],
                      captions, embedder.embed_texts(captions),
                      embedder.embed_images(images),
                      np.stack([item['thumb'] for item in good]), signature)
    kb.index(**_index_args(cfg), progress=progress)
    return kb


def _index_args(cfg) -> dict:
    args = dict(cfg.kb.get('index', {}))
    args.pop('search_params', None)
    return args


def _round(x: float) -> Optional[float]:
    return round(float(x), 6) if np.isfinite(x) else None


def _references(kb: KnowledgeBase, hits: Hits, row: int) -> List[dict]:
    valid = hits.ids[row] >= 0
    ids = hits.ids[row][valid]
    refs = []
    for j, entry in zip(np.flatnonzero(valid), kb.entries(ids)):
        refs.append(
            dict(key=entry['key'], path=entry['path'],
                 caption=entry['caption'],
                 text_l2=_round(hits.text_l2[row, j]),
                 image_cos=_round(hits.image_cos[row, j]),
                 ssim=_round(hits.ssim[row, j])))
    return refs


def _record(rec: PairRecord, attempt: int, **fields) -> dict:
    return dict(key=rec.key, source=rec.source, rain_type=rec.rain_type,
                split=rec.split, input_path=rec.input_path,
                target_path=rec.target_path, attempt=attempt, **fields)


class Distiller:
    """Judges query pairs: encode, retrieve, ask every judge, vote.

    Args:
        cfg (Config): The distillation config.
    """

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.kb = KnowledgeBase(cfg.kb.root)
        if not len(self.kb):
            raise FileNotFoundError(
                f'knowledge base {cfg.kb.root} is empty or missing; build it '
                'first with: python tools/distill/distill.py build-kb CONFIG')
        self.kb.check_signature(encoder_signature(cfg.encoders))
        self.captioner, self.embedder = build_encoders(cfg.encoders)
        # SSIM on this rank's GPU unless the config names a device
        retrieval = {'device': str(resolve_device()), **cfg.retrieval}
        self.retriever = Retriever(self.kb, index=cfg.kb.get('index'),
                                   **retrieval)
        self.judges: List[BaseJudge] = [
            JUDGES.build(j, default_args=dict(prompt=cfg.get('prompt')))
            for j in cfg.judges
        ]
        names = [j.name for j in self.judges]
        if len(set(names)) != len(names):
            raise ValueError(f'judge names must be unique, got {names}')
        self.quorum = cfg.get('vote', {}).get('quorum', 2)
        quorum_vote(['abstain'] * len(self.judges), self.quorum)  # validate

    def process(self, records: Sequence[PairRecord], batch: List[dict],
                attempts: Dict[str, int]) -> List[dict]:
        """Encode, retrieve, judge and vote on one loaded batch.

        Args:
            records (Sequence[PairRecord]): The pairs the batch indexes.
            batch (list[dict]): Items of the image loader (``index`` into
                ``records``, ``image``, ``thumb`` or ``error``).
            attempts (dict[str, int]): Earlier attempts per key.

        Returns:
            list[dict]: One manifest record per item.
        """
        good, bad = _split_readable(batch)
        out = [
            _record(records[item['index']], attempts.get(
                records[item['index']].key, 0) + 1, decision=REJECT,
                error=item['error']) for item in bad
        ]
        if not good:
            return out
        images = [item['image'] for item in good]
        captions = self.captioner.caption(images)
        hits = self.retriever.search(
            self.embedder.embed_texts(captions),
            self.embedder.embed_images(images),
            np.stack([item['thumb'] for item in good]))
        pairs = [records[item['index']] for item in good]
        queries = [
            JudgeQuery(rec.key, rec.input_path, rec.target_path,
                       rec.rain_type, rec.source, caption,
                       _references(self.kb, hits, row))
            for row, (rec, caption) in enumerate(zip(pairs, captions))
        ]
        with ThreadPoolExecutor(len(self.judges)) as pool:
            answers = list(pool.map(lambda j: j.judge_batch(queries),
                                    self.judges))
        for i, (rec, query) in enumerate(zip(pairs, queries)):
            verdicts = [a[i] for a in answers]
            votes = [v.answer for v in verdicts]
            out.append(
                _record(rec, attempts.get(rec.key, 0) + 1,
                        caption=query.caption, references=query.references,
                        judges=[v.to_dict(j.name)
                                for j, v in zip(self.judges, verdicts)],
                        votes=dict(yes=votes.count('yes'),
                                   no=votes.count('no'),
                                   abstain=votes.count('abstain'),
                                   quorum=self.quorum),
                        decision=quorum_vote(votes, self.quorum)))
        return out

    def run(self, rank: int = 0, world_size: int = 1,
            redo_abstained: bool = False, progress: bool = True) -> int:
        """Judge this process's shard of the queries (every
        ``world_size``-th query in key order, from ``rank``), skipping the
        ones any earlier run finished. Results are appended and synced to
        disk after each batch.

        Args:
            rank (int): This process's rank.
            world_size (int): Number of processes.
            redo_abstained (bool): Judge again the queries whose latest
                decision is ``'abstain'`` (their ``attempt`` goes up; the
                merge keeps the latest attempt).
            progress (bool): Show a progress bar.

        Returns:
            int: Queries judged by this call.
        """
        cfg = self.cfg
        records = load_queries(cfg.queries)[rank::world_size]
        latest = latest_records(cfg.work_dir)
        todo = [
            r for r in records if r.key not in latest or (
                redo_abstained and latest[r.key][3] == 'abstain')
        ]
        attempts = {k: v[0] for k, v in latest.items()}
        print_log(f'rank {rank}/{world_size}: {len(records)} queries, '
                  f'{len(records) - len(todo)} already done',
                  MMLogger.get_current_instance())
        loader_cfg = cfg.get('loader', {})
        loader = _image_batches([r.input_path for r in todo],
                                self.kb.thumb_size,
                                loader_cfg.get('batch_size', 32),
                                loader_cfg.get('num_workers', 0))
        bar = tqdm(total=len(records), initial=len(records) - len(todo),
                   desc=f'distill rank {rank}', unit='pair',
                   disable=not progress)
        with ShardWriter(shard_path(cfg.work_dir, rank, world_size)) as w:
            for batch in loader:
                w.write(self.process(todo, batch, attempts))
                bar.update(len(batch))
        bar.close()
        return len(todo)


def finalize(cfg, pack: bool = True, report: bool = True) -> dict:
    """Merge the shards into ``<work_dir>/manifest.jsonl``, pack the kept
    pairs into ``<work_dir>/lmdb`` and write ``<work_dir>/report``.

    Returns:
        dict: Counts per decision and the output paths.
    """
    logger = MMLogger.get_current_instance()
    manifest = osp.join(cfg.work_dir, MANIFEST)
    merge_shards(cfg.work_dir, manifest)
    counts, kept = {}, []
    for rec in read_manifest(manifest):
        counts[rec['decision']] = counts.get(rec['decision'], 0) + 1
        if rec['decision'] == KEEP:
            kept.append(
                PairRecord(rec['key'], rec['input_path'], rec['target_path'],
                           rec['rain_type'], rec['source'], rec['split']))
    missing = len(load_queries(cfg.queries)) - sum(counts.values())
    if missing:
        print_log(f'{missing} queries have no result yet; run distill.py '
                  'again to finish them', logger, 'WARNING')
    out = dict(manifest=manifest, counts=counts, missing=missing)
    if pack and kept:
        out['lmdb'] = pack_kept(kept, osp.join(cfg.work_dir, 'lmdb'),
                                **cfg.get('pack', {}))
    if report:
        from .report import make_report
        out['report'] = make_report(manifest, osp.join(cfg.work_dir,
                                                       'report'),
                                    **cfg.get('report', {}))
    print_log(f'manifest {manifest}: {counts}', logger)
    return out


def pack_kept(kept: Sequence[PairRecord], out_dir: str, **kwargs) -> str:
    """Pack the kept pairs with the data layer's packer. A finished database
    of another kept set (an earlier run) is replaced: the manifest is the
    source of truth."""
    from unirain_mm.datasets.lmdb_pack import pack_pairs
    try:
        pack_pairs(kept, out_dir, **kwargs)
    except ValueError as e:
        if 'finished database' not in str(e):
            raise
        print_log(f'{out_dir} holds another kept set; packing anew',
                  MMLogger.get_current_instance(), 'WARNING')
        shutil.rmtree(out_dir)
        pack_pairs(kept, out_dir, **kwargs)
    return out_dir

