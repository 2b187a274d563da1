"""Hook updating UniRain's per-type loss weights from validation losses."""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.amp import autocast
from mmagic.registry import HOOKS

from unirain_mm.fileio import save_json_atomic
from unirain_mm.reweighting import ReweightSchedule, plot_history
from unirain_mm.reweighting.strategies import to_builtin

Records = Dict[Tuple[int, str], float]


def l1_per_image(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """Mean absolute error of one image on the [0, 1] scale.

    Args:
        pred (Tensor): Restored image, (C, H, W), values in 0..255.
        gt (Tensor): Ground truth, (C, H, W), values in 0..255.
    """
    diff = pred.detach().double() - gt.detach().to(pred.device).double()
    return float(diff.abs().mean()) / 255.0


def reduce_type_losses(records: Records,
                       num_types: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per-type mean of per-image losses, identical on every rank.

    The records of all ranks are gathered (``mmengine.dist``, a no-op in a
    single process) and merged by key, so images that DDP's sampler repeats
    to pad its shards are counted once, as the metrics do. Sums run in a
    fixed (sorted-key) order, so every rank gets bit-identical means.

    Args:
        records (dict): ``(type_id, image_key) -> loss`` of this rank.
        num_types (int): K.

    Returns:
        tuple[np.ndarray, np.ndarray]: Means (NaN where a type has no
        image) and counts, both shape (K,).
    """
    merged: Records = {}
    for part in all_gather_object(records):
        merged.update(part)
    sums = np.zeros(num_types)
    counts = np.zeros(num_types)
    for (type_id, _), value in sorted(merged.items()):
        sums[type_id] += value
        counts[type_id] += 1
    means = np.full(num_types, np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means, counts


@HOOKS.register_module()
class ReweightingHook(Hook):
    """Update the model's per-type loss weights once per validation round.

    Implements UniRain's multi-objective reweighted optimisation
    (docs/method.md, "Optimisation") and its ablation baselines through one
    interface: a :class:`~unirain_mm.reweighting.ReweightSchedule` (warm-up,
    strategy, floor; see :mod:`unirain_mm.reweighting`) maps the per-type
    validation L1 curve to weights that are written in place into the
    model's ``type_weights`` buffer (shape (K,), see :class:`UniRain`'s
    ``loss_form``). ``tools/analysis/replay_reweighting.py`` runs the same
    schedule offline on logged losses.

    Where the losses come from: during training, every validation round of
    the train loop (mmagic's ``MultiValLoop``, one dataloader per type) is
    also a measurement. ``after_val_iter`` records the L1 on the [0, 1] scale
    of every image (``output.pred_img`` against ``gt_img``, both 0..255),
    keyed by its type (``gt_label``) and path; ``after_val_epoch`` reduces the
    records of all ranks to per-type means (duplicates from DDP's sampler
    padding counted once, see :func:`reduce_type_losses`) and steps the
    schedule. ``interval`` counts validation rounds, so the cadence is
    ``interval * val_interval`` iterations with no extra forward pass.
    Validation outside training (``runner.val()``) does not update anything.

    With the defaults this is the authors' released schedule: one update per
    validation round, uniform weights for the first 20 rounds (only the
    losses are recorded then), CoBa ``official`` with window 10 and tau 5,
    and the affine floor 0.1. A round in which a type has no image, or a loss
    is NaN, infinite or zero, is skipped (weights unchanged) with a warning.

    Resume: the counters, the schedule's state and the history are saved in
    ``checkpoint['meta']['reweighting']`` (the weights themselves are a model
    buffer). mmengine saves ``iter_k.pth`` *before* the validation at
    iteration k, so when a resumed checkpoint predates the round the train
    loop ran at its iteration, ``before_train`` re-runs that measurement over
    the validation dataloaders (no other hook sees it). A resumed run
    therefore applies the same weights as an uninterrupted one. A checkpoint
    loaded with ``load_from`` but without resume starts a fresh history.

    Logging: after every update, ``train/w_<type>`` (normalised weights) and
    the strategy's diagnostics (``train/coba_tbs_<type>``,
    ``train/coba_tss_<type>``, ``train/coba_af``; ``train/dwa_ratio_<type>``;
    ``train/famo_z_<type>``) go to the message hub, whose current values the
    logger writes on every logged iteration. ``val/<type>/L1`` appears in the
    validation log next to ``<type>/PSNR`` (not ``l1_<type>``, the model's
    training-batch L1, which would share its log and TensorBoard tag). The
    history (float64 weights, exactly what the replay tool computes) is
    written atomically to ``<work_dir>/<history_file>`` after every round and
    plotted to ``<work_dir>/<plot_file>`` at the end of training (re-plot
    with ``tools/analysis/plot_reweighting.py``).

    Args:
        strategy (dict, optional): Strategy config, e.g.
            ``dict(type='CoBa', variant='official', window=10, tau=5.)``
            (the default), ``dict(type='Uniform')``,
            ``dict(type='DWA', temperature=2.)`` or
            ``dict(type='FAMO', lr=0.025, gamma=0.001)``.
        interval (int): Validation rounds per update.
        warmup (int): Number of first due rounds with uniform weights.
        floor (float): Minimum weight, ``0 <= floor <= 1 / K``.
        floor_mode (str): ``'affine'`` (the authors': always
            ``floor + (1 - K floor) w``) or ``'lift'`` (only when a weight
            is below the floor), see
            :func:`~unirain_mm.reweighting.apply_floor`.
        plot (bool): Write the plot at the end of training.
        history_file (str): JSON history, relative to the work dir.
        plot_file (str): PNG plot, relative to the work dir.
    """

    priority = 'NORMAL'
    #: Version of the state in checkpoints (2: the authors' warm-up, the
    #: schedule's state).
    STATE_VERSION = 2

    def __init__(self,
                 strategy: Optional[dict] = None,
                 interval: int = 1,
                 warmup: int = 20,
                 floor: float = 0.1,
                 floor_mode: str = 'affine',
                 plot: bool = True,
                 history_file: str = 'reweighting_history.json',
                 plot_file: str = 'reweighting.png') -> None:
        if interval < 1 or warmup < 0 or floor < 0:
            raise ValueError('interval must be >= 1, warmup and floor >= 0')
        self.strategy_cfg = dict(strategy or dict(type='CoBa'))
        self.interval = interval
        self.warmup = warmup
        self.floor = float(floor)
        self.floor_mode = floor_mode
        self.plot = plot
        self.history_file = history_file
        self.plot_file = plot_file

        self.schedule: Optional[ReweightSchedule] = None
        self.rain_types: Tuple[str, ...] = ()
        self.rounds = 0  # validation rounds seen during training
        self.last_round_iter = -1
        self.stats: dict = {}
        self.history: List[dict] = []
        self._records: Records = {}
        self._training = False
        self._loaded: Optional[Tuple[int, dict]] = None
        self._warned = set()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Everything needed to continue exactly (JSON-serialisable)."""
        return dict(
            version=self.STATE_VERSION,
            rain_types=list(self.rain_types),
            schedule=self.schedule.state_dict(),
            rounds=self.rounds,
            last_round_iter=self.last_round_iter,
            stats=to_builtin(self.stats),
            history=self.history)

    def load_state_dict(self, state: dict) -> None:
        if state.get('version') != self.STATE_VERSION:
            raise ValueError(
                'the checkpoint holds reweighting state of an older '
                'UniRain-MM (before the authors\' warm-up was followed); it '
                'cannot be resumed exactly: start from it with load_from '
                '(fresh reweighting history) instead of resume')
        if tuple(state['rain_types']) != self.rain_types:
            raise ValueError(f'checkpoint reweights {state["rain_types"]}, '
                             f'the model has {list(self.rain_types)}')
        self.schedule.load_state_dict(state['schedule'])
        self.rounds = state['rounds']
        self.last_round_iter = state['last_round_iter']
        self.stats = {k: np.asarray(v) if isinstance(v, list) else v
                      for k, v in state['stats'].items()}
        self.history = list(state['history'])

    # ------------------------------------------------------------- run hooks
    def before_run(self, runner) -> None:
        model = self._model(runner)
        weights = getattr(model, 'type_weights', None)
        if not isinstance(weights, torch.Tensor):
            raise TypeError(f'{type(self).__name__} needs a model with a '
                            f'type_weights buffer (UniRain), got '
                            f'{type(model).__name__}')
        self.rain_types = tuple(getattr(
            model, 'rain_types', [str(i) for i in range(weights.numel())]))
        self.schedule = ReweightSchedule(self.strategy_cfg, self.rain_types,
                                         self.warmup, self.floor,
                                         self.floor_mode)

    def before_train(self, runner) -> None:
        self._training = True
        if runner.val_loop is None:
            runner.logger.warning(
                f'{type(self).__name__}: training without validation, so '
                'the per-type loss weights will not change')
        if self._loaded is not None:
            ckpt_iter, state = self._loaded
            self._loaded = None
            if runner.iter > 0 and runner.iter == ckpt_iter:
                self.load_state_dict(state)
                if self._validation_pending(runner):
                    self._replay_round(runner)
            else:
                runner.logger.info(f'{type(self).__name__}: checkpoint '
                                   'loaded without resume, the reweighting '
                                   'history starts afresh')
        self._publish(runner)

    def after_train(self, runner) -> None:
        self._training = False
        if not is_main_process():
            return
        self._save_history(runner)
        if self.plot and self.history:
            try:
                plot_history(self.history_dict(),
                             osp.join(runner.work_dir, self.plot_file))
            except Exception as err:  # a plot must not fail a finished run
                runner.logger.warning(f'reweighting plot failed: {err!r}')

    def before_val_epoch(self, runner) -> None:
        self._records = {}

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        if self._training and self._round_due():
            self._accumulate(runner, self._records, outputs or [])

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._training:
            self._end_round(runner, self._records)
            self._records = {}

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['reweighting'] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        if 'reweighting' in meta:
            # Applied in before_train, once it is known whether this resumes.
            self._loaded = (meta.get('iter', 0), meta['reweighting'])

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _model(runner) -> torch.nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _warn_once(self, runner, key: str, msg: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            runner.logger.warning(msg)

    def _round_due(self) -> bool:
        return (self.rounds + 1) % self.interval == 0

    def _accumulate(self, runner, records: Records, outputs) -> None:
        """Add the [0, 1]-scale L1 of every output image to ``records``."""
        for sample in outputs:
            if not ('gt_label' in sample and 'gt_img' in sample
                    and 'output' in sample
                    and 'pred_img' in sample.output):
                self._warn_once(
                    runner, 'fields', 'reweighting ignores validation '
                    'samples without gt_label, gt_img or output.pred_img')
                continue
            type_id = int(sample.gt_label.label.view(-1)[0])
            if not 0 <= type_id < len(self.rain_types):
                self._warn_once(runner, f'label{type_id}',
                                f'reweighting ignores gt_label {type_id}')
                continue
            key = sample.metainfo.get('gt_path') or sample.metainfo.get(
                'img_path') or f'#{runner.rank}:{len(records)}'
            records[(type_id, str(key))] = l1_per_image(
                sample.output.pred_img, sample.gt_img)

    def _end_round(self, runner, records: Records) -> None:
        """Finish one validation round: update the weights if it is due."""
        due = self._round_due()
        self.rounds += 1
        self.last_round_iter = runner.iter
        if not due:
            return
        losses, counts = reduce_type_losses(records, len(self.rain_types))
        for name, loss in zip(self.rain_types, losses):
            if math.isfinite(loss):
                runner.message_hub.update_scalar(f'val/{name}/L1', loss)
        record = dict(round=self.rounds, iter=runner.iter,
                      val_l1=[v if math.isfinite(v) else None
                              for v in losses.tolist()],
                      counts=counts.astype(int).tolist())
        result = self.schedule.step(losses)
        if result.status == 'skipped':
            runner.logger.warning(
                f'reweighting: round {self.rounds} at iter {runner.iter} '
                f'skipped ({result.reason}); weights unchanged')
            record.update(status='skipped', reason=result.reason)
        else:
            self._set_weights(runner, result.weights)
            self.stats = result.stats
            record.update(status=result.status, stats=to_builtin(self.stats))
        record['weights'] = result.weights.tolist()
        self.history.append(record)
        self._publish(runner)
        if is_main_process():
            self._save_history(runner)

    def weights(self, runner) -> np.ndarray:
        """The model's current weights, normalised to sum 1, (K,)."""
        w = self._model(runner).type_weights.detach().double().cpu().numpy()
        return w / w.sum()

    def _set_weights(self, runner, weights: np.ndarray) -> None:
        buf = self._model(runner).type_weights
        with torch.no_grad():
            buf.copy_(torch.as_tensor(weights, dtype=buf.dtype))

    def _publish(self, runner) -> None:
        # Updated on change only: the logger reports non-loss scalars by
        # their current value, so every logged iteration shows them.
        hub = runner.message_hub
        for name, w in zip(self.rain_types, self.weights(runner)):
            hub.update_scalar(f'train/w_{name}', float(w))
        for key, value in self.stats.items():
            if np.ndim(value):
                for name, v in zip(self.rain_types, value):
                    hub.update_scalar(f'train/{key}_{name}', float(v))
            else:
                hub.update_scalar(f'train/{key}', float(value))

    def _validation_pending(self, runner) -> bool:
        """Whether the train loop validated at the resumed checkpoint's
        iteration after saving it (so this run never sees that round)."""
        loop = runner.train_loop
        if runner.val_loop is None or self.last_round_iter >= runner.iter:
            return False
        if isinstance(loop, IterBasedTrainLoop):
            step, last = runner.iter, loop.max_iters
        elif isinstance(loop, EpochBasedTrainLoop):
            step, last = runner.epoch, loop.max_epochs
        else:
            return False
        return step >= loop.val_begin and (step % loop.val_interval == 0
                                           or step == last)

    def _replay_round(self, runner) -> None:
        """Measure the validation round the checkpoint predates."""
        records: Records = {}
        if self._round_due():
            runner.logger.info(
                f'reweighting: re-measuring the validation round of iter '
                f'{runner.iter}, which ran after this checkpoint was saved')
            loop = runner.val_loop
            loaders = getattr(loop, 'dataloaders', None) or [loop.dataloader]
            model = runner.model
            was_training = model.training
            model.eval()
            with torch.no_grad(), autocast(
                    enabled=getattr(loop, 'fp16', False)):
                for loader in loaders:
                    for batch in loader:
                        self._accumulate(runner, records,
                                         model.val_step(batch))
            model.train(was_training)
        self._end_round(runner, records)

    def history_dict(self) -> dict:
        """The history as written to the JSON file."""
        return dict(rain_types=list(self.rain_types),
                    strategy=self.strategy_cfg,
                    interval=self.interval,
                    warmup=self.warmup,
                    floor=self.floor,
                    floor_mode=self.floor_mode,
                    records=self.history)

    def _save_history(self, runner) -> None:
        save_json_atomic(self.history_dict(),
                         osp.join(runner.work_dir, self.history_file))
