"""Turn a training checkpoint into a zoo file: weights only, hash-named.

Usage::

    python tools/misc/publish_model.py \
        work_dirs/unirain_s_synth/iter_1800.pth \
        checkpoints/unirain_s_synth_20261202

writes ``checkpoints/unirain_s_synth_20261202-<first 8 hex of sha256>.pth``
holding ``{'meta': {...}, 'state_dict': ...}`` (no optimizer, no message
hub, nothing the safe loader would refuse), written atomically, and prints
its path. The input is read with the safe loader of
:mod:`unirain_mm.checkpoint` (``--unsafe-load`` for trusted old files).
"""
import argparse
import hashlib
import io
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='training checkpoint (.pth)')
    parser.add_argument('out_prefix',
                        help='output path without the -<hash>.pth suffix')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='read the input with weights_only=False '
                        '(trusted files only)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    import torch

    from unirain_mm.checkpoint import CheckpointError, load_checkpoint_file
    from unirain_mm.fileio import atomic_write_bytes

    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'not found: {args.checkpoint}')
    try:
        ckpt = load_checkpoint_file(args.checkpoint, 'cpu', args.unsafe_load)
    except CheckpointError as err:
        raise SystemExit(str(err))
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise SystemExit(f'{args.checkpoint}: no state_dict of tensors')
    old_meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    # plain values only, so that the file loads under weights_only
    kept = ('iter', 'epoch', 'seed', 'experiment_name', 'mmengine_version')
    meta = {k: old_meta[k] for k in kept
            if isinstance(old_meta.get(k), (int, str))}
    meta['source'] = osp.basename(args.checkpoint)
    buffer = io.BytesIO()
    torch.save(dict(meta=meta, state_dict=state), buffer)
    data = buffer.getvalue()
    final = f'{args.out_prefix}-{hashlib.sha256(data).hexdigest()[:8]}.pth'
    os.makedirs(osp.dirname(osp.abspath(final)), exist_ok=True)
    atomic_write_bytes(final, data)
    print(final)
    return final


if __name__ == '__main__':
    main()
