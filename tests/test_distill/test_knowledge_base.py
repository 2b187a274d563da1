"""KnowledgeBase: append, reopen, a killed append, signatures, indexes."""
import json
import os

import numpy as np
import pytest

from unirain_mm.distill import KnowledgeBase
from unirain_mm.distill.encoders import l2_normalize
from unirain_mm.distill.knowledge_base import resolve_index_spec

SIG = {'captioner': {'type': 'StatsCaptioner'}}


def _batch(start, n, dim=8, size=4, seed=0):
    rng = np.random.default_rng(seed + start)
    keys = [f'real_{i:04d}' for i in range(start, start + n)]
    return dict(keys=keys, paths=[f'/photos/{k}.png' for k in keys],
                captions=[f'caption {k}' for k in keys],
                text_emb=l2_normalize(rng.normal(size=(n, dim))),
                image_emb=l2_normalize(rng.normal(size=(n, dim + 2))),
                thumbs=rng.integers(0, 255, (n, size, size), dtype=np.uint8))


def test_append_and_reopen(tmp_path):
    root = str(tmp_path / 'kb')
    kb = KnowledgeBase(root)
    assert len(kb) == 0
    first, second = _batch(0, 5), _batch(5, 3)
    kb.append(**first, signature=SIG)
    kb.append(**second, signature=SIG)
    kb = KnowledgeBase(root)
    assert len(kb) == 8 and kb.thumb_size == 4
    assert kb.keys() == set(first['keys'] + second['keys'])
    np.testing.assert_array_equal(kb.text_vectors[5:], second['text_emb'])
    np.testing.assert_array_equal(kb.image_vectors[:5], first['image_emb'])
    np.testing.assert_array_equal(kb.thumbs[6], second['thumbs'][1])
    (e7, e0) = kb.entries([7, 0])
    assert e7 == dict(id=7, key='real_0007', path='/photos/real_0007.png',
                      caption='caption real_0007')
    assert e0['key'] == 'real_0000'


def test_killed_append_is_cut_off(tmp_path):
    root = str(tmp_path / 'kb')
    kb = KnowledgeBase(root)
    kb.append(**_batch(0, 4), signature=SIG)
    # A killed append: data written, kb.json not updated.
    for name in ('meta.jsonl', 'text.f32', 'image.f32', 'thumbs.u8'):
        with open(os.path.join(root, name), 'ab') as f:
            f.write(b'partial garbage')
    kb = KnowledgeBase(root)
    assert len(kb) == 4 and len(kb.keys()) == 4
    kb.append(**_batch(4, 2), signature=SIG)
    kb = KnowledgeBase(root)
    assert len(kb) == 6
    assert os.path.getsize(os.path.join(root, 'text.f32')) == 6 * 8 * 4
    assert [e['key'] for e in kb.entries(range(6))] == \
        [f'real_{i:04d}' for i in range(6)]
    with open(os.path.join(root, 'meta.jsonl')) as f:
        assert [json.loads(line)['id'] for line in f] == list(range(6))


def test_other_encoders_are_refused(tmp_path):
    kb = KnowledgeBase(str(tmp_path / 'kb'))
    kb.append(**_batch(0, 2), signature=SIG)
    with pytest.raises(ValueError, match='other encoders'):
        kb.append(**_batch(2, 2), signature={'captioner': {'type': 'Blip'}})
    with pytest.raises(ValueError, match='shape'):
        kb.append(**_batch(2, 2, dim=4), signature=SIG)


def test_index_exact_and_ivf_up_to_date(tmp_path):
    kb = KnowledgeBase(str(tmp_path / 'kb'))
    kb.append(**_batch(0, 300, dim=8), signature=SIG)
    assert resolve_index_spec('auto', 300, exact_max=1000) == 'Flat'
    assert resolve_index_spec('auto', 1_000_000, 1000) == 'IVF4096,SQ8'
    flat = kb.index('auto', progress=False)
    assert flat.ntotal == 300
    q = np.ascontiguousarray(kb.text_vectors[[3, 200]])
    _, ids = flat.search(q, 1)
    assert ids[:, 0].tolist() == [3, 200]
    ivf = kb.index('IVF4,Flat', progress=False)
    ivf.nprobe = 4  # all lists: exact
    assert ivf.search(q, 1)[1][:, 0].tolist() == [3, 200]
    assert os.path.isfile(tmp_path / 'kb' / 'index' / 'text_IVF4_Flat.faiss')
    kb.append(**_batch(300, 10, dim=8), signature=SIG)
    kb = KnowledgeBase(str(tmp_path / 'kb'))
    assert kb.index('IVF4,Flat', progress=False).ntotal == 310  # extended
    assert kb.index('Flat', progress=False).ntotal == 310
