"""The retrieval knowledge base: real rainy photos, encoded once, on disk.

Folder layout (``root``)::

    kb.json        committed entry count, dimensions, encoder signature
    meta.jsonl     one line per entry: {"id", "key", "path", "caption"}
    text.f32       (N, D_text) float32 unit caption embeddings
    image.f32      (N, D_image) float32 unit image embeddings
    thumbs.u8      (N, S, S) uint8 grey thumbnails at the SSIM size S
    index/         faiss indexes over the caption embeddings

Rows are appended in batches. ``kb.json`` is rewritten atomically after each
batch is on disk, so it always names a consistent prefix of the data files;
bytes past that prefix (a killed append) are cut off on the next append. The
raw arrays are read through memory maps, so only the rows a search touches
are loaded.
"""
import json
import math
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from unirain_mm.fileio import save_json_atomic

INFO_FILE = 'kb.json'
META_FILE = 'meta.jsonl'
TEXT_FILE = 'text.f32'
IMAGE_FILE = 'image.f32'
THUMB_FILE = 'thumbs.u8'


def resolve_index_spec(spec: str, count: int, exact_max: int) -> str:
    """faiss ``index_factory`` string for ``spec``.

    ``'auto'`` is exact search (``'Flat'``) up to ``exact_max`` entries and
    above it an inverted file of about 4 sqrt(N) lists (a power of two) with
    8-bit scalar-quantised vectors: a quarter of the memory traffic of
    ``Flat`` lists, which is what bounds the search on a CPU
    (``tools/analysis/benchmark_retrieval.py``).
    """
    if spec != 'auto':
        return spec
    if count <= exact_max:
        return 'Flat'
    nlist = 2**round(math.log2(4 * math.sqrt(count)))
    return f'IVF{nlist},SQ8'


class KnowledgeBase:
    """Captions, embeddings and thumbnails of reference photos on disk.

    Args:
        root (str): The knowledge-base folder (created on first append).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        info_path = osp.join(root, INFO_FILE)
        self.info: Dict = {}
        if osp.isfile(info_path):
            with open(info_path, encoding='utf-8') as f:
                self.info = json.load(f)
        self._offsets: Optional[np.ndarray] = None
        self._maps: Dict[str, np.memmap] = {}

    def __len__(self) -> int:
        return int(self.info.get('count', 0))

    @property
    def thumb_size(self) -> int:
        """Side S of the stored grey thumbnails."""
        return int(self.info['thumb_size'])

    def _path(self, name: str) -> str:
        return osp.join(self.root, name)

    # ----------------------------------------------------------- writing

    def append(self,
               keys: Sequence[str],
               paths: Sequence[str],
               captions: Sequence[str],
               text_emb: np.ndarray,
               image_emb: np.ndarray,
               thumbs: np.ndarray,
               signature: Optional[dict] = None) -> None:
        """Append a batch of entries and commit it.

        Args:
            keys (Sequence[str]): Unique entry keys.
            paths (Sequence[str]): Image files.
            captions (Sequence[str]): Captions.
            text_emb (np.ndarray): (B, D_text) caption embeddings.
            image_emb (np.ndarray): (B, D_image) image embeddings.
            thumbs (np.ndarray): (B, S, S) uint8 grey thumbnails.
            signature (dict, optional): Encoder signature; must equal the
                one the knowledge base was started with.
        """
        n = len(keys)
        if not (len(paths) == len(captions) == len(text_emb) ==
                len(image_emb) == len(thumbs) == n):
            raise ValueError('append needs one path, caption, embedding and '
                             'thumbnail per key')
        if not self.info:
            os.makedirs(self.root, exist_ok=True)
            self.info = dict(
                version=1, count=0, meta_bytes=0,
                text_dim=int(text_emb.shape[1]),
                image_dim=int(image_emb.shape[1]),
                thumb_size=int(thumbs.shape[1]), signature=signature)
            for name in (META_FILE, TEXT_FILE, IMAGE_FILE, THUMB_FILE):
                open(self._path(name), 'wb').close()
        self.check_signature(signature)
        shapes = {TEXT_FILE: (self.info['text_dim'], ),
                  IMAGE_FILE: (self.info['image_dim'], ),
                  THUMB_FILE: (self.thumb_size, self.thumb_size)}
        arrays = {TEXT_FILE: np.asarray(text_emb, np.float32),
                  IMAGE_FILE: np.asarray(image_emb, np.float32),
                  THUMB_FILE: np.asarray(thumbs, np.uint8)}
        for name, arr in arrays.items():
            if arr.shape[1:] != shapes[name]:
                raise ValueError(f'{self.root}: {name} rows have shape '
                                 f'{shapes[name]}, got {arr.shape[1:]}')
        count = len(self)
        lines = ''.join(
            json.dumps(dict(id=count + i, key=k, path=p, caption=c)) + '\n'
            for i, (k, p, c) in enumerate(zip(keys, paths, captions)))
        data = {META_FILE: lines.encode('utf-8')}
        data.update({k: np.ascontiguousarray(v).tobytes()
                     for k, v in arrays.items()})
        committed = self._committed_sizes()
        for name, payload in data.items():
            with open(self._path(name), 'r+b') as f:
                f.truncate(committed[name])  # drop a killed append's tail
                f.seek(committed[name])
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
        self.info['count'] = count + n
        self.info['meta_bytes'] += len(data[META_FILE])
        save_json_atomic(self.info, self._path(INFO_FILE))
        self._offsets = None
        self._maps = {}

    def _committed_sizes(self) -> Dict[str, int]:
        n = len(self)
        return {
            META_FILE: self.info['meta_bytes'],
            TEXT_FILE: n * self.info['text_dim'] * 4,
            IMAGE_FILE: n * self.info['image_dim'] * 4,
            THUMB_FILE: n * self.thumb_size**2,
        }

    def check_signature(self, signature: Optional[dict]) -> None:
        """Raise ``ValueError`` if ``signature`` differs from the encoders
        the knowledge base was built with (embeddings would not compare)."""
        stored = self.info.get('signature')
        if signature is not None and stored is not None and \
                json.dumps(signature, sort_keys=True) != \
                json.dumps(stored, sort_keys=True):
            raise ValueError(
                f'{self.root} was built with other encoders:\n  stored '
                f'{stored}\n  config {signature}\nuse a new knowledge-base '
                'folder or the encoders it was built with')

    # ----------------------------------------------------------- reading

    def _map(self, name: str, dtype, row_shape: Tuple[int, ...]) -> np.ndarray:
        if name not in self._maps:
            if not len(self):
                return np.zeros((0, ) + row_shape, dtype)
            self._maps[name] = np.memmap(
                self._path(name), dtype=dtype, mode='r',
                shape=(len(self), ) + row_shape)
        return self._maps[name]

    @property
    def text_vectors(self) -> np.ndarray:
        """(N, D_text) float32 caption embeddings (memory-mapped)."""
        return self._map(TEXT_FILE, np.float32, (self.info['text_dim'], ))

    @property
    def image_vectors(self) -> np.ndarray:
        """(N, D_image) float32 image embeddings (memory-mapped)."""
        return self._map(IMAGE_FILE, np.float32, (self.info['image_dim'], ))

    @property
    def thumbs(self) -> np.ndarray:
        """(N, S, S) uint8 grey thumbnails (memory-mapped)."""
        return self._map(THUMB_FILE, np.uint8,
                         (self.thumb_size, self.thumb_size))

    def _line_offsets(self) -> np.ndarray:
        if self._offsets is None:
            offsets = [0]
            with open(self._path(META_FILE), 'rb') as f:
                for line in f:
                    offsets.append(offsets[-1] + len(line))
                    if len(offsets) > len(self):
                        break
            self._offsets = np.asarray(offsets[:len(self)], np.int64)
        return self._offsets

    def entries(self, ids: Sequence[int]) -> List[dict]:
        """Metadata ``{"id", "key", "path", "caption"}`` of entries ``ids``,
        read line by line (the metadata is never loaded whole)."""
        offsets = self._line_offsets()
        out = []
        with open(self._path(META_FILE), 'rb') as f:
            for i in ids:
                f.seek(int(offsets[int(i)]))
                out.append(json.loads(f.readline()))
        return out

    def keys(self) -> set:
        """Keys of all committed entries."""
        keys = set()
        if len(self):
            with open(self._path(META_FILE), 'rb') as f:
                for _, line in zip(range(len(self)), f):
                    keys.add(json.loads(line)['key'])
        return keys

    # ------------------------------------------------------------ index

    def index(self,
              spec: str = 'auto',
              exact_max: int = 100_000,
              train_size: int = 200_000,
              chunk: int = 65_536,
              progress: bool = True):
        """The faiss L2 index over the caption embeddings, built or brought
        up to date on first use and cached under ``index/``.

        Args:
            spec (str): faiss ``index_factory`` string (``'Flat'``: exact;
                ``'IVF4096,SQ8'``, ``'IVF1024,Flat'``, ``'HNSW32'``...:
                approximate) or ``'auto'`` (see :func:`resolve_index_spec`).
            exact_max (int): Largest base that ``'auto'`` searches exactly.
            train_size (int): Vectors sampled (seeded) to train an index
                that needs training.
            chunk (int): Vectors added per step.
            progress (bool): Show a progress bar while adding.

        Returns:
            faiss.Index: Holds all committed entries, ids = row numbers.
        """
        import faiss
        if not len(self):
            raise ValueError(f'knowledge base {self.root} is empty; build it '
                             'with: python tools/distill/distill.py '
                             'build-kb CONFIG')
        spec = resolve_index_spec(spec, len(self), exact_max)
        name = re.sub(r'[^A-Za-z0-9_-]', '_', spec)
        path = self._path(osp.join('index', f'text_{name}.faiss'))
        vectors = self.text_vectors
        index, start = None, 0
        if osp.isfile(path):
            index = faiss.read_index(path)
            start = index.ntotal
            if start > len(self):  # the base was rebuilt smaller
                index, start = None, 0
            elif start == len(self):
                return index
        if index is None:
            index = faiss.index_factory(vectors.shape[1], spec,
                                        faiss.METRIC_L2)
            if not index.is_trained:
                rng = np.random.default_rng(0)
                n = min(train_size, len(self))
                rows = np.sort(rng.choice(len(self), n, replace=False))
                index.train(np.ascontiguousarray(vectors[rows]))
        bar = tqdm(total=len(self) - start, desc=f'index {spec}',
                   disable=not progress, unit='vec')
        for lo in range(start, len(self), chunk):
            hi = min(lo + chunk, len(self))
            index.add(np.ascontiguousarray(vectors[lo:hi]))
            bar.update(hi - lo)
        bar.close()
        os.makedirs(osp.dirname(path), exist_ok=True)
        tmp = path + '.tmp'
        faiss.write_index(index, tmp)
        os.replace(tmp, path)
        return index
