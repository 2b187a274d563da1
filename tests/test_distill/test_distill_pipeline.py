"""The pipeline in one process on small demo data with the offline judges:
knowledge base, manifest, LMDB readable by the data layer, report."""
import json
import os.path as osp

from distill_fixtures import (  # noqa: F401  (fixtures, used by name)
    chat_server, completion, distill_cfg, distill_data)

from unirain_mm.datasets import ManifestSubset, PairedLmdbDataset
from unirain_mm.distill import (Distiller, KnowledgeBase,
                                build_knowledge_base, finalize)
from unirain_mm.distill.results import read_manifest

MANIFEST_FIELDS = {'key', 'source', 'rain_type', 'split', 'input_path',
                   'target_path', 'attempt', 'caption', 'references',
                   'judges', 'votes', 'decision'}


def test_end_to_end(distill_cfg):
    cfg = distill_cfg
    # stricter than the demo, so that the small data gets both decisions
    cfg.judges[1].checks = dict(target_sharpness=(800.0, None))
    kb = build_knowledge_base(cfg, progress=False)
    assert len(kb) == 12  # 3 test photos x 4 types
    build_knowledge_base(cfg, progress=False)  # reused, nothing added
    assert len(KnowledgeBase(cfg.kb.root)) == 12
    assert Distiller(cfg).run(progress=False) == 16
    assert Distiller(cfg).run(progress=False) == 0  # all done
    out = finalize(cfg)
    recs = list(read_manifest(out['manifest']))
    assert [r['key'] for r in recs] == sorted(r['key'] for r in recs)
    assert len(recs) == 16 and out['missing'] == 0
    for r in recs:
        assert set(r) == MANIFEST_FIELDS
        assert r['decision'] in ('keep', 'reject', 'abstain')
        assert len(r['references']) == 2  # K3
        assert r['references'][0]['ssim'] >= r['references'][1]['ssim']
        assert [j['name'] for j in r['judges']] == \
            ['realism', 'background', 'pair']
        yes = sum(j['answer'] == 'yes' for j in r['judges'])
        assert (r['decision'] == 'keep') == (yes >= 2)
    kept = {r['key'] for r in recs if r['decision'] == 'keep'}
    assert 0 < len(kept) < 16, out['counts']
    # the kept subset as LMDB, through the data layer
    data = PairedLmdbDataset(data_root=out['lmdb'])
    assert {data.get_data_info(i)['key'] for i in range(len(data))} == kept
    subset = ManifestSubset(dict(type='PairedLmdbDataset',
                                 data_root=out['lmdb']), out['manifest'])
    assert len(subset) == len(kept)
    # report
    report = out['report']
    text = open(report).read()
    for name in ('keep_rate.png', 'scores.png', 'examples_keep.png'):
        assert name in text and osp.getsize(osp.join(osp.dirname(report),
                                                     name)) > 1000
    assert '## By type' in text and '| DRS |' in text
    with open(osp.join(out['lmdb'], 'pack_info.json')) as f:
        assert json.load(f)


def test_unreadable_query_is_rejected_with_its_error(distill_cfg, tmp_path):
    cfg = distill_cfg
    build_knowledge_base(cfg, progress=False)
    lst = tmp_path / 'broken.tsv'
    lst.write_text('key\tinput_path\ttarget_path\train_type\tsource\tsplit\n'
                   'x_1\tmissing.png\tmissing_gt.png\tDRS\tx\ttrain\n')
    cfg.queries = [dict(type='PairList', path=str(lst))]
    Distiller(cfg).run(progress=False)
    (rec, ) = read_manifest(finalize(cfg, pack=False,
                                     report=False)['manifest'])
    assert rec['decision'] == 'reject' and 'missing.png' in rec['error']


def test_redo_abstained_after_a_judge_server_failed(distill_cfg, chat_server,
                                                    completion):
    state = dict(reply='I cannot see the images')
    server = chat_server(lambda body, n: (200, completion(state['reply']), 0))
    cfg = distill_cfg
    served = dict(type='OpenAIChatJudge', base_url=server.url, model='m',
                  max_retries=0, image_max_side=32)
    cfg.judges = [cfg.judges[0], dict(served, name='a'),
                  dict(served, name='b')]
    build_knowledge_base(cfg, progress=False)
    Distiller(cfg).run(progress=False)
    first = list(read_manifest(finalize(cfg, pack=False,
                                        report=False)['manifest']))
    assert {r['decision'] for r in first} == {'abstain'}  # never a yes
    state['reply'] = 'Yes'
    assert Distiller(cfg).run(progress=False) == 0  # abstained = finished
    assert Distiller(cfg).run(redo_abstained=True, progress=False) == 16
    out = finalize(cfg, report=False)
    again = list(read_manifest(out['manifest']))
    assert {r['decision'] for r in again} == {'keep'}
    assert {r['attempt'] for r in again} == {2} and len(again) == 16
