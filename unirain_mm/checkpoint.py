"""Safe and strict checkpoint loading.

Every local checkpoint is read with ``torch.load(weights_only=True)``; only
the few Python types that mmengine checkpoints pickle besides tensors are
allowed (:func:`safe_globals`), and only while our loader runs. Anything
else is refused with :class:`CheckpointError` naming the file and the
global, before it is created. ``unsafe=True`` (the tools' ``--unsafe-load``)
falls back to ``weights_only=False`` and is for trusted files only.

:func:`register_checkpoint_loader` makes this loader mmengine's local-path
``CheckpointLoader`` scheme, so that ``Runner.resume``, ``load_from`` and
``mmengine.runner.load_checkpoint`` use it too. :func:`load_model_weights`
checks a state dict against a model: for inference and testing a missing,
unexpected or mis-shaped key is an error that suggests the matching config.
"""
import glob
import os.path as osp
import pickle
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple

# The repository's own configs; absent when the package is installed alone.
CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'unirain')

_BLOCKED_GLOBAL = re.compile(r'GLOBAL (\S+) was not an allowed global')
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded safely or does not fit the model."""


def _history_buffer_method(obj: Any, name: str) -> Any:
    """The only ``getattr`` a checkpoint may call.

    ``HistoryBuffer`` pickles its statistics methods (``HistoryBuffer.min``
    etc.) as ``getattr(HistoryBuffer, 'min')``; a general ``getattr`` would
    let a pickle reach arbitrary attributes of the allowed classes.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'GLOBAL getattr({obj!r}, {name!r}) was not an allowed global')


def safe_globals() -> List[Any]:
    """The non-tensor globals that mmengine checkpoints need.

    mmengine's ``HistoryBuffer`` (in the message hub) with its statistics
    methods, and the numpy arrays, numeric dtypes and scalars that it and
    the checkpoint meta hold. Object arrays stay refused.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    multiarray = np.core.multiarray
    numeric = '?bhilqBHILQefdgFDG'
    return [
        HistoryBuffer,
        (_history_buffer_method, '__builtin__.getattr'),
        (_history_buffer_method, 'builtins.getattr'),
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
    ] + [type(np.dtype(c)) for c in numeric]


def _refusal(filename: str, err: Exception) -> CheckpointError:
    text = str(err)
    found = _BLOCKED_GLOBAL.search(text)
    if found:
        what = f'it needs the global {found.group(1)}'
    else:  # e.g. a BUILD or REDUCE of a type that is not allowed
        detail = text.split('WeightsUnpickler error:')[-1]
        detail = detail.split('Check the documentation')[0]
        what = ' '.join(detail.split()) or type(err).__name__
    return CheckpointError(
        f'refusing to load checkpoint {filename}: {what}, which is not in '
        'the allowlist of unirain_mm.checkpoint (a checkpoint can run code '
        'when it is unpickled). If you trust this file, pass --unsafe-load '
        '(unsafe_load=True).')


def load_checkpoint_file(filename: str,
                         map_location: Any = None,
                         unsafe: bool = False) -> Any:
    """Read a local checkpoint with ``weights_only=True`` and the allowlist.

    Args:
        filename (str): Path of the checkpoint (``~`` is expanded).
        map_location: As for :func:`torch.load`.
        unsafe (bool): Use ``weights_only=False``: trusted files only.

    Returns:
        The unpickled object (for mmengine checkpoints a dict).

    Raises:
        FileNotFoundError: No such file.
        CheckpointError: The pickle needs a global outside the allowlist.
    """
    import torch
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if unsafe:
        warnings.warn(f'loading {filename} with weights_only=False: this '
                      'runs any code its pickle holds (trusted files only)')
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise _refusal(filename, e) from None


def register_checkpoint_loader(unsafe: bool = False) -> None:
    """Make :func:`load_checkpoint_file` mmengine's loader for local paths.

    Args:
        unsafe (bool): Register the ``weights_only=False`` variant instead
            (``tools/train.py --unsafe-load``).
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_local(filename: str, map_location: Any = None) -> Any:
        return load_checkpoint_file(filename, map_location, unsafe)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local, force=True)


def _state_dict(checkpoint: Any, filename: str) -> Dict[str, Any]:
    state = checkpoint
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        state = checkpoint['state_dict']
    if not isinstance(state, dict):
        raise CheckpointError(f'checkpoint {filename} holds no state_dict '
                              f'(got {type(state).__name__})')
    if not state:
        raise CheckpointError(f'checkpoint {filename} has an empty '
                              'state_dict')
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def _shape(value: Any) -> Optional[Tuple[int, ...]]:
    shape = getattr(value, 'shape', None)
    return None if shape is None else tuple(shape)


def compare_state_dicts(
        expected: Dict[str, Any],
        found: Dict[str, Any]) -> Tuple[List[str], List[str], List[str]]:
    """Keys ``found`` lacks, keys it has in excess, keys of another shape.

    Args:
        expected (dict): The model's state dict (tensors, any device).
        found (dict): The checkpoint's state dict.

    Returns:
        tuple[list[str]]: ``(missing, unexpected, mis_shaped)``, each in the
        order of its state dict.
    """
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    mis_shaped = [k for k in expected
                  if k in found and _shape(expected[k]) != _shape(found[k])]
    return missing, unexpected, mis_shaped


def suggest_config(state: Dict[str, Any],
                   config_dir: str = CONFIG_DIR) -> Optional[str]:
    """The first config under ``config_dir`` whose generator fits ``state``.

    Each config's generator is built on the ``meta`` device (no memory, no
    initialisation cost) and its parameter shapes compared with the
    checkpoint's ``generator.*`` entries.

    Returns:
        str | None: The config path, or None when none fits.
    """
    import torch
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    prefix = 'generator.'
    from unirain_mm.models.editors.unirain.moe import upgrade_state_dict
    found = upgrade_state_dict({k[len(prefix):]: v for k, v in state.items()
                                if k.startswith(prefix)})
    if not found:
        return None
    init_default_scope('mmagic')
    for path in sorted(glob.glob(osp.join(config_dir, '*.py'))):
        try:
            gen_cfg = Config.fromfile(path).model.generator
            with torch.device('meta'):
                generator = MODELS.build(gen_cfg)
        except Exception:  # a config without a buildable generator
            continue
        if not any(compare_state_dicts(generator.state_dict(), found)):
            return path
    return None


def _mismatch_message(filename: str, state: Dict[str, Any],
                      expected: Dict[str, Any], missing: List[str],
                      unexpected: List[str], mis_shaped: List[str]) -> str:
    def first(keys: List[str], show=str) -> str:
        shown = ', '.join(show(k) for k in keys[:3])
        return shown + (', ...' if len(keys) > 3 else '')

    parts = []
    if missing:
        parts.append(f'{len(missing)} missing ({first(missing)})')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected ({first(unexpected)})')
    if mis_shaped:
        parts.append(f'{len(mis_shaped)} of another shape ('
                     + first(mis_shaped, lambda k: f'{k}: checkpoint '
                             f'{_shape(state[k])}, model '
                             f'{_shape(expected[k])}') + ')')
    msg = (f'checkpoint {filename} does not fit the model: '
           + '; '.join(parts) + '.')
    embed = state.get('generator.embed.weight')
    dim = f'dim {_shape(embed)[0]}' if _shape(embed) else 'these shapes'
    try:
        match = suggest_config(state)
    except Exception as e:  # the hint must not hide the error itself
        match, dim = None, f'{dim} (no config compared: {e})'
    if match:
        msg += (f' This checkpoint has {dim}: did you mean '
                f'{osp.relpath(match)}?')
    elif osp.isdir(CONFIG_DIR):
        msg += (f' This checkpoint has {dim}; no config in '
                f'{osp.relpath(CONFIG_DIR)} matches it.')
    return msg


def load_model_weights(model,
                       filename: str,
                       strict: bool = True,
                       unsafe: bool = False,
                       map_location: Any = 'cpu') -> Any:
    """Load a checkpoint's weights into ``model``, checked key by key.

    Args:
        model (nn.Module): The model (unwrapped).
        filename (str): Checkpoint path.
        strict (bool): Missing, unexpected or mis-shaped keys are an error
            (inference, testing). Otherwise the fitting keys are loaded and
            one summary line is warned (fine-tuning).
        unsafe (bool): See :func:`load_checkpoint_file`.
        map_location: As for :func:`torch.load`.

    Returns:
        The loaded checkpoint.

    Raises:
        CheckpointError: Refused, empty or (strict) mismatching checkpoint.
    """
    checkpoint = load_checkpoint_file(filename, map_location, unsafe)
    from unirain_mm.models.editors.unirain.moe import upgrade_state_dict
    state = upgrade_state_dict(_state_dict(checkpoint, filename))
    expected = model.state_dict()
    missing, unexpected, mis_shaped = compare_state_dicts(expected, state)
    if missing or unexpected or mis_shaped:
        msg = _mismatch_message(filename, state, expected, missing,
                                unexpected, mis_shaped)
        if strict:
            raise CheckpointError(msg)
        warnings.warn(msg + ' Loading the keys that fit.')
        bad = set(unexpected) | set(mis_shaped)
        state = {k: v for k, v in state.items() if k not in bad}
    model.load_state_dict(state, strict=False)
    return checkpoint
