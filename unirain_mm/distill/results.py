"""Per-shard result files and their deterministic merge into the manifest.

Every process appends one JSON line per finished query to its own shard file
``shards/shard-<rank>-of-<world>.jsonl`` and syncs it to disk after each
batch. A run that is killed leaves complete lines plus at most one partial
line, which the next run cuts off before it appends. On resume, every shard
file (of any world size) is read to find the finished keys, so no query is
done twice and none is lost. The merge keeps one record per key (the latest
attempt) and writes them sorted by key.
"""
import glob
import json
import os
import os.path as osp
from typing import Dict, Iterable, Iterator, List, Tuple

from unirain_mm.fileio import atomic_open

SHARD_DIR = 'shards'


def shard_path(work_dir: str, rank: int, world_size: int) -> str:
    """The result file of ``rank`` among ``world_size`` processes."""
    return osp.join(work_dir, SHARD_DIR,
                    f'shard-{rank:05d}-of-{world_size:05d}.jsonl')


class ShardWriter:
    """Appends result records to a shard file, durably.

    Args:
        path (str): The shard file; a partial last line is cut off.
    """

    def __init__(self, path: str) -> None:
        os.makedirs(osp.dirname(path), exist_ok=True)
        self.path = path
        self._file = open(path, 'ab+')
        self._file.seek(0, os.SEEK_END)
        size = self._file.tell()
        if size:
            # Find the end of the last complete line.
            pos = size
            while pos > 0:
                step = min(pos, 65536)
                self._file.seek(pos - step)
                nl = self._file.read(step).rfind(b'\n')
                if nl >= 0:
                    pos = pos - step + nl + 1
                    break
                pos -= step
            if pos < size:
                self._file.truncate(pos)

    def write(self, records: Iterable[dict]) -> None:
        """Append records and sync them to disk."""
        data = ''.join(json.dumps(r, sort_keys=True) + '\n' for r in records)
        self._file.write(data.encode('utf-8'))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> 'ShardWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _scan(paths: Iterable[str]) -> Iterator[Tuple[dict, str, int]]:
    """``(record, path, byte offset)`` of every complete line; a partial
    last line (a killed writer) is skipped."""
    for path in paths:
        with open(path, 'rb') as f:
            offset = 0
            for line in f:
                if line.endswith(b'\n'):
                    try:
                        yield json.loads(line), path, offset
                    except ValueError as e:
                        raise ValueError(f'{path}: corrupt line at byte '
                                         f'{offset}: {e}') from None
                offset += len(line)


def shard_files(work_dir: str) -> List[str]:
    """All shard files of a run, sorted."""
    return sorted(glob.glob(osp.join(work_dir, SHARD_DIR, 'shard-*.jsonl')))


def latest_records(work_dir: str) -> Dict[str, Tuple[int, str, int, str]]:
    """Key -> ``(attempt, path, offset, decision)`` of the latest record of
    each key
    across all shard files; ties (one attempt written twice) go to the first
    file in sorted order, so the result does not depend on timing."""
    latest: Dict[str, Tuple[int, str, int, str]] = {}
    for rec, path, offset in _scan(shard_files(work_dir)):
        attempt = int(rec.get('attempt', 1))
        old = latest.get(rec['key'])
        if old is None or attempt > old[0]:
            latest[rec['key']] = (attempt, path, offset, rec['decision'])
    return latest


def merge_shards(work_dir: str, out_path: str) -> int:
    """Write the manifest: the latest record of every key, sorted by key,
    one JSON line each (atomically). Only offsets are held in memory.

    Returns:
        int: Records written.
    """
    latest = latest_records(work_dir)
    handles = {}
    try:
        with atomic_open(out_path, 'wb') as out:
            for key in sorted(latest):
                _, path, offset, _ = latest[key]
                if path not in handles:
                    handles[path] = open(path, 'rb')
                f = handles[path]
                f.seek(offset)
                out.write(f.readline())
    finally:
        for f in handles.values():
            f.close()
    return len(latest)


def read_manifest(path: str) -> Iterator[dict]:
    """Records of a manifest file, in order."""
    for rec, _, _ in _scan([path]):
        yield rec
