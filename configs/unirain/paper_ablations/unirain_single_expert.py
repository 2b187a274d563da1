# Paper Table 6, "single expert": UniRain with one expert per MoE layer, i.e.
# a dense feed-forward network of the expert's width behind a router whose
# only output is 1 (UniRain itself, Soft+Hard with 3 experts, is
# unirain_all.py).
#   bash tools/dist_train.sh configs/unirain/paper_ablations/unirain_single_expert.py 4
_base_ = ['../unirain_all.py']

model = dict(generator=dict(num_experts=1, top_k=1))
