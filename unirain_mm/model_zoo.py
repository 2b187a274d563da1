"""The model zoo: names such as ``unirain-s`` for a config and its weights.

Models are listed in mmagic-style ``metafile.yml`` files (:data:`METAFILES`,
relative to the repository root). Each entry names its ``Config``, its
``Weights`` (a file under ``checkpoints/`` whose name ends in the first 8
hex digits of its SHA-256, as mmagic's published checkpoints do) and its
``Results``. Resolving a name checks that the weights file exists and that
its hash matches, so a truncated download or a Git LFS pointer fails with a
clear error instead of loading wrong weights. Imports neither torch nor
mmagic.
"""
from __future__ import annotations

import hashlib
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

#: Repository root (the package is installed in development mode, so the
#: configs and checkpoints sit next to it).
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METAFILES = ('configs/unirain/metafile.yml', 'configs/baselines/metafile.yml')
_HASH_SUFFIX = re.compile(r'-([0-9a-f]{8})\.pth$')


class ModelZooError(ValueError):
    """An unknown zoo name, or weights that are missing or corrupt."""


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry, with paths resolved against the repository root."""

    name: str
    config: str
    weights: str


def _load_metafile(path: str) -> List[dict]:
    import yaml  # a dependency of mmengine
    with open(path, encoding='utf-8') as f:
        data = yaml.safe_load(f) or {}
    models = data.get('Models', [])
    for i, entry in enumerate(models):
        missing = [k for k in ('Name', 'Config', 'Weights') if k not in entry]
        if missing:
            raise ModelZooError(f'{path}: model {i} lacks {missing}')
    return models


def list_models(root: Optional[str] = None) -> Dict[str, ZooModel]:
    """All zoo entries by name (lower case), paths below ``root``
    (default :data:`REPO_ROOT`)."""
    root = REPO_ROOT if root is None else root
    zoo: Dict[str, ZooModel] = {}
    for rel in METAFILES:
        path = osp.join(root, rel)
        if not osp.isfile(path):
            continue
        for entry in _load_metafile(path):
            name = str(entry['Name']).lower()
            if name in zoo:
                raise ModelZooError(f'{path}: zoo name {name!r} is listed '
                                    'twice')
            zoo[name] = ZooModel(
                name=name,
                config=osp.join(root, entry['Config']),
                weights=osp.join(root, entry['Weights']))
    return zoo


def sha256_of(path: str) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check_weights(path: str) -> None:
    """Refuse a weights file whose content does not match the hash prefix
    in its name (``...-<8 hex>.pth``).

    Raises:
        ModelZooError: The file is missing, unnamed by hash, or altered.
    """
    if not osp.isfile(path):
        raise ModelZooError(f'zoo weights not found: {path} (a fresh clone '
                            'has them under checkpoints/; with Git LFS, run '
                            'git lfs pull)')
    match = _HASH_SUFFIX.search(osp.basename(path))
    if match is None:
        raise ModelZooError(f'zoo weights {path} are not named '
                            '<name>-<first 8 hex digits of sha256>.pth')
    actual = sha256_of(path)[:8]
    if actual != match.group(1):
        raise ModelZooError(
            f'zoo weights {path} are corrupt or replaced: sha256 starts '
            f'with {actual}, the name says {match.group(1)}')


def resolve(name: str, root: Optional[str] = None) -> Optional[ZooModel]:
    """The zoo entry called ``name`` with verified weights, or None when
    no entry has that name.

    Raises:
        ModelZooError: The entry exists but its config or weights are
            missing or its weights fail the hash check.
    """
    model = list_models(root).get(name.lower())
    if model is None:
        return None
    if not osp.isfile(model.config):
        raise ModelZooError(f'zoo model {name!r}: config {model.config} not '
                            'found')
    check_weights(model.weights)
    return model


def is_zoo_name(spec: str) -> bool:
    """Whether ``spec`` looks like a zoo name rather than a file path."""
    return (not osp.exists(spec) and '/' not in spec
            and not spec.endswith(('.py', '.pth', '.onnx')))
