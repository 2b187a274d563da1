"""Pack rainy/clean pairs into LMDB in BasicSR's layout, resumably.

Layout written under ``out_dir``::

    input.lmdb/{data.mdb, lock.mdb, meta_info.txt}    rainy images
    target.lmdb/{data.mdb, lock.mdb, meta_info.txt}   clean images
    pack_info.json                                    counts and skipped keys

Both databases hold the same keys. A value is the image as PNG (BGR, as
BasicSR stores it) at ``compress_level``. ``meta_info.txt`` has one line per
key in the order of the records::

    rain13k_Rain100H_rain-001.png (321,481,3) 0 DRS rain13k

i.e. BasicSR's three columns plus the rain type and the source; mmagic and
BasicSR read only the first columns. The layout itself (folder names, the
meta line format, opening environments) is :mod:`unirain_mm.datasets.lmdb_io`,
shared with :class:`PairedLmdbDataset`.

Resume: every batch of pairs and its ``meta_info`` lines are committed in one
LMDB transaction (into a side table), so a killed run leaves a consistent
database; the next run skips the keys both databases hold. ``meta_info.txt``
is written last, atomically: a database without it is unfinished and
:class:`PairedLmdbDataset` refuses to read it.
"""
import json
import os
import os.path as osp
from collections import Counter
from functools import partial
from multiprocessing import get_all_start_methods, get_context
from typing import Dict, Iterator, List, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from unirain_mm.datasets.bad_data import (BadDataPolicy, SkipPair,
                                          decode_image, match_sizes)
from unirain_mm.datasets.lmdb_io import (DB_NAMES, META_FILE, MetaLine,
                                         get_env, open_env, read_meta_info)
from unirain_mm.datasets.pairs import PairRecord
from unirain_mm.fileio import (atomic_write_text, read_bytes,
                               save_json_atomic)

# side table of meta lines, committed with the images it describes
_META_DB = b'__unirain_meta__'


def _encode_pair(rec: PairRecord, policy: BadDataPolicy,
                 compress_level: int):
    """Read, check and PNG-encode one pair (runs in a worker process)."""
    try:
        img, gt = (decode_image(read_bytes(p), rec.key, policy, what)
                   for p, what in ((rec.input_path, 'input'),
                                   (rec.target_path, 'target')))
        img, gt = match_sizes(img, gt, rec.key, policy)
    except SkipPair as reason:
        return rec.key, str(reason)
    params = [cv2.IMWRITE_PNG_COMPRESSION, compress_level]
    out = []
    for arr in (img, gt):
        ok, buf = cv2.imencode('.png', np.ascontiguousarray(arr[..., ::-1]),
                               params)
        if not ok:
            raise RuntimeError(f'{rec.key}: PNG encoding failed')
        out.append((buf.tobytes(), arr.shape))
    return rec.key, out



def _map(fn, items: Sequence, num_workers: int) -> Iterator:
    """``map`` in order, in a process pool when ``num_workers`` > 0."""
    if num_workers <= 0:
        yield from map(fn, items)
        return
    # fork: workers need no re-import of the package (seconds per worker)
    method = 'fork' if 'fork' in get_all_start_methods() else 'spawn'
    with get_context(method).Pool(num_workers) as pool:
        yield from pool.imap(fn, items, chunksize=4)


def _done_keys(envs) -> set:
    """Keys whose images and meta lines both databases hold."""
    done = None
    for env in envs:
        with env.begin() as txn:
            keys = {k.decode() for k, _ in
                    txn.cursor(env.open_db(_META_DB, txn=txn))}
        done = keys if done is None else done & keys
    return done


def pack_pairs(records: Sequence[PairRecord],
               out_dir: str,
               compress_level: int = 0,
               num_workers: int = 0,
               progress: bool = True,
               policy: Optional[dict] = None,
               commit_every: int = 256) -> Dict:
    """Pack pairs into ``out_dir/{input,target}.lmdb`` (see module doc).

    Args:
        records (Sequence[PairRecord]): Pairs to pack; keys must be unique.
        out_dir (str): Output folder; re-running with the same records
            resumes an interrupted run (a finished one is left as is).
        compress_level (int): PNG compression 0-9. 0 (stored, no deflate)
            decodes about twice as fast as 1 (BasicSR's default) at about
            twice the disk; see ``docs/benchmarks.md``.
        num_workers (int): Processes that read and encode images (0: none).
        progress (bool): Show a progress bar.
        policy (dict, optional): Bad-data policy overrides
            (:class:`BadDataPolicy`); ``too_small`` does not apply here.
        commit_every (int): Pairs per transaction.

    Returns:
        dict: ``pack_info.json``'s content: counts per type and source, and
        the skipped keys with their reasons.

    Raises:
        ValueError: On duplicate keys, or if ``out_dir`` holds a finished
            database of other keys.
        BadPairError: A bad pair under an ``error`` policy (nothing of it is
            written; packed batches stay and a rerun resumes).
    """
    policy = BadDataPolicy.build(policy)
    counts = Counter(r.key for r in records)
    dups = [k for k, n in counts.items() if n > 1]
    if dups:
        raise ValueError(f'{len(dups)} duplicate keys, e.g. {dups[:3]}')
    if not 0 <= compress_level <= 9:
        raise ValueError(f'compress_level {compress_level} not in 0..9')
    db_paths = [osp.join(out_dir, name) for name in DB_NAMES]
    info_path = osp.join(out_dir, 'pack_info.json')
    if all(osp.isfile(osp.join(p, META_FILE)) for p in db_paths):
        return _check_finished(db_paths, records, info_path)
    for p in db_paths:
        os.makedirs(p, exist_ok=True)

    envs = [open_env(p, write=True) for p in db_paths]
    try:
        meta_dbs = [env.open_db(_META_DB) for env in envs]
        done = _done_keys(envs)
        todo = [r for r in records if r.key not in done]
        skipped = {}
        by_key = {r.key: r for r in todo}
        bar = tqdm(total=len(records), initial=len(records) - len(todo),
                   desc=f'pack {out_dir}', unit='pair', disable=not progress)
        batch = []
        encode = partial(_encode_pair, policy=policy,
                         compress_level=compress_level)
        for key, result in _map(encode, todo, num_workers):
            if isinstance(result, str):
                skipped[key] = result
            else:
                batch.append((key, result))
            if len(batch) >= commit_every:
                _commit(envs, meta_dbs, batch, compress_level, by_key)
                batch = []
            bar.update()
        _commit(envs, meta_dbs, batch, compress_level, by_key)
        bar.close()
        return _finish(envs, meta_dbs, db_paths, records, skipped,
                       compress_level, info_path)
    finally:
        for env in envs:
            env.close()


def _commit(envs, meta_dbs, batch, compress_level: int,
            by_key: Dict[str, PairRecord]) -> None:
    """Write a batch of encoded pairs and their meta lines, one
    transaction per database."""
    if not batch:
        return
    for side, (env, meta_db) in enumerate(zip(envs, meta_dbs)):
        with env.begin(write=True) as txn:
            for key, pair in batch:
                png, shape = pair[side]
                rec = by_key[key]
                txn.put(key.encode('ascii'), png)
                line = MetaLine(key, shape, compress_level, rec.rain_type,
                                rec.source).format()
                txn.put(key.encode('ascii'), line.encode(), db=meta_db)


def _finish(envs, meta_dbs, db_paths, records, skipped, compress_level,
            info_path) -> Dict:
    """Write ``pack_info.json``, then ``meta_info.txt`` (record order).

    ``meta_info.txt`` marks a finished pack, so it comes after
    ``pack_info.json`` (which lists the skipped keys), and both are written
    before either side table is dropped: a kill at any point leaves either a
    resumable or a finished pack.
    """
    packed = [r for r in records if r.key not in skipped]
    info = _summary([r.rain_type for r in packed],
                    [r.source for r in packed], skipped, compress_level)
    save_json_atomic(info, info_path)
    for env, meta_db, db_path in zip(envs, meta_dbs, db_paths):
        with env.begin() as txn:
            lines = [txn.get(rec.key.encode('ascii'), db=meta_db).decode()
                     for rec in packed]
        atomic_write_text(osp.join(db_path, META_FILE),
                          '\n'.join(lines) + '\n')
    for env, meta_db in zip(envs, meta_dbs):
        with env.begin(write=True) as txn:
            txn.drop(meta_db, delete=True)
    return info


def _summary(rain_types: List[str], sources: List[str],
             skipped: Dict[str, str], compress_level: int) -> Dict:
    return dict(
        num_pairs=len(rain_types),
        compress_level=compress_level,
        per_type=dict(Counter(rain_types)),
        per_source=dict(Counter(sources)),
        skipped=skipped)


def _check_finished(db_paths, records, info_path) -> Dict:
    """A finished pack of the same records is kept; other records refused."""
    lines = read_meta_info(osp.join(db_paths[0], META_FILE))
    keys = {m.key for m in lines}
    wanted = {r.key for r in records}
    out_dir = osp.dirname(db_paths[0])
    extra = keys - wanted
    if extra:
        raise ValueError(
            f'{out_dir} already holds a finished database with {len(extra)} '
            f'keys not in the records (e.g. {sorted(extra)[:3]}); choose '
            'another output folder')
    if osp.isfile(info_path):
        with open(info_path) as f:
            info = json.load(f)
    else:  # a database packed by another tool (e.g. BasicSR's)
        info = _summary([m.rain_type for m in lines],
                        [m.source for m in lines], {},
                        lines[0].compress_level if lines else 0)
    missing = wanted - keys - set(info['skipped'])
    if missing:
        raise ValueError(
            f'{out_dir} already holds a finished database without '
            f'{len(missing)} of the records (e.g. {sorted(missing)[:3]}); '
            'choose another output folder')
    return info


def verify_pairs(records: Sequence[PairRecord],
                 out_dir: str,
                 num_workers: int = 0,
                 progress: bool = True,
                 policy: Optional[dict] = None) -> Dict[str, str]:
    """Decode every packed pair and compare it with its source images.

    Returns:
        dict: key -> problem, empty when every record matches its source
        pixel for pixel (after the same bad-data conversions as packing).
        Records that packing skipped are not expected in the database.
    """
    db_paths = [osp.join(out_dir, name) for name in DB_NAMES]
    for p in db_paths:
        if not osp.isfile(osp.join(p, META_FILE)):
            raise FileNotFoundError(f'{p} has no {META_FILE}: the database is '
                                    'unfinished; run the packer again')
    packed = {m.key for m in read_meta_info(osp.join(db_paths[0],
                                                     META_FILE))}
    problems = {}
    check = partial(_verify_one, db_paths=db_paths,
                    policy=BadDataPolicy.build(policy))
    todo = [r for r in records if r.key in packed]
    problems.update({r.key: 'not in the database'
                     for r in records if r.key not in packed})
    for key, problem in tqdm(_map(check, todo, num_workers), total=len(todo),
                             desc=f'verify {out_dir}', unit='pair',
                             disable=not progress):
        if problem:
            problems[key] = problem
    return problems


def _verify_one(rec: PairRecord, db_paths, policy: BadDataPolicy):
    try:
        src = [decode_image(read_bytes(p), rec.key, policy, what)
               for p, what in ((rec.input_path, 'input'),
                               (rec.target_path, 'target'))]
        src = match_sizes(*src, rec.key, policy)
    except SkipPair as reason:
        return rec.key, f'source now skipped: {reason}'
    strict = BadDataPolicy()  # stored records must decode cleanly
    for db_path, expected, source, what in zip(
            db_paths, src, (rec.input_path, rec.target_path),
            ('input', 'target')):
        with get_env(db_path).begin() as txn:
            data = txn.get(rec.key.encode('ascii'))
        try:
            got = decode_image(data, rec.key, strict, what)
        except (SkipPair, ValueError) as e:
            return rec.key, str(e)
        if got.shape != expected.shape or not np.array_equal(got, expected):
            return rec.key, f'{what} record differs from {source}'
    return rec.key, None
