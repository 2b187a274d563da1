"""Training wrapper of UniRain: per-type weighted L1 and router statistics."""
from typing import Dict, List, Optional, Sequence

import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample

from unirain_mm.rain_types import RAIN_TYPES
from ..tiled_edit_model import TiledEditModel
from .moe import RouteInfo, load_balance_loss


@MODELS.register_module()
class UniRain(TiledEditModel):
    """UniRain training wrapper around a :class:`UniRainNet` generator.

    The training loss weights each rain type's L1 by its entry of
    ``type_weights`` (a buffer, saved in checkpoints, which
    ``ReweightingHook`` updates in place). ``L1_i`` is the mean per-image L1
    over the ``n_i`` images of type ``i`` in a batch of ``B``; two forms:

    - ``loss_form='batch_mean'``, the authors' released code (used by the
      paper recipe)::

          L = sum_i w_i * L1_i * n_i / B = (1/B) sum_b w_type(b) * L1_b

      every image counts with its type's weight, divided by the batch size.
      A type's share of the gradient grows with how often it is drawn, and
      the loss scale follows the weights (uniform weights 1/K give L1 / K).
    - ``loss_form='type_mean'`` (ours, the default)::

          L = sum_i w_i * L1_i / sum_i w_i    (i over the types in the batch)

      every type present counts with its weight whatever its number of
      images, and normalising by the weights present keeps the loss scale
      independent of the batch's mix; with uniform weights and every type
      present it is the mean of the per-type losses.

    Adam-type optimisers are nearly invariant to the constant scale, so the
    forms differ mainly in how a batch's type mix shares the gradient.

    Every training sample must carry its type id as ``gt_label`` (set per
    dataset with ``SetValues(dictionary=dict(gt_label=k))``).

    Logged besides ``loss``: ``l1_<type>`` for each type in the batch and
    ``router_<type>_e<k>``, the fraction of Hard-MoE layer
    decisions for images of that type that selected expert ``k``.

    Args:
        generator (dict): Config of the network, e.g. ``UniRainNet``.
        pixel_loss (dict): Config of an element-wise loss with
            ``reduction='none'``.
        rain_types (Sequence[str]): Names of the types, indexed by
            ``gt_label``.
        type_weights (Sequence[float], optional): Initial per-type weights.
            Uniform if None.
        loss_form (str): ``'type_mean'`` or ``'batch_mean'`` (the
            authors'), see above.
        balance_loss_weight (float): Weight of the MoE load-balancing loss
            (0 disables it, as in the authors' code).
        test_cfg (dict, optional): ``tiling=dict(tile=..., overlap=...,
            routes=..., route_size=..., tile_batch=...)`` makes the
            evaluation forward (``mode='predict'`` / ``'tensor'``) run
            :func:`unirain_mm.apis.tiled_forward` on each image, so that
            images of any size fit in memory; absent, one forward per batch.
        train_cfg, init_cfg, data_preprocessor: As in
            :class:`BaseEditModel`.
    """

    LOSS_FORMS = ('type_mean', 'batch_mean')

    def __init__(self,
                 generator: dict,
                 pixel_loss: Optional[dict] = None,
                 rain_types: Sequence[str] = RAIN_TYPES,
                 type_weights: Optional[Sequence[float]] = None,
                 loss_form: str = 'type_mean',
                 balance_loss_weight: float = 0.0,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        if pixel_loss is None:
            pixel_loss = dict(type='L1Loss', reduction='none')
        super().__init__(generator, pixel_loss, train_cfg, test_cfg,
                         init_cfg, data_preprocessor)
        if getattr(self.pixel_loss, 'reduction', None) != 'none':
            raise ValueError("UniRain needs a pixel_loss with reduction='none'"
                             ' to weight images by type, got '
                             f"{pixel_loss}")
        self.rain_types = tuple(rain_types)
        num_types = len(self.rain_types)
        if type_weights is None:
            type_weights = [1.0 / num_types] * num_types
        if len(type_weights) != num_types:
            raise ValueError(f'type_weights has {len(type_weights)} values '
                             f'for {num_types} rain types')
        self.register_buffer(
            'type_weights', torch.tensor(type_weights, dtype=torch.float32))
        if loss_form not in self.LOSS_FORMS:
            raise ValueError(f'loss_form must be one of {self.LOSS_FORMS}, '
                             f'got {loss_form!r}')
        self.loss_form = loss_form
        self.balance_loss_weight = balance_loss_weight

    def type_ids(self, data_samples: DataSample) -> torch.Tensor:
        """The rain-type id of every sample, shape (B,), validated."""
        if 'gt_label' not in data_samples:
            raise KeyError(
                'UniRain needs the rain type of every training sample as '
                "'gt_label'; add SetValues(dictionary=dict(gt_label=<id>)) "
                'to each dataset pipeline before PackInputs')
        ids = data_samples.gt_label.label.view(-1).long()
        bad = (ids < 0) | (ids >= len(self.rain_types))
        if bad.any():
            raise ValueError(f'gt_label {ids[bad].tolist()} outside the '
                             f'{len(self.rain_types)} rain types '
                             f'{self.rain_types}')
        return ids

    def forward_train(self,
                      inputs: torch.Tensor,
                      data_samples: Optional[DataSample] = None,
                      **kwargs) -> Dict[str, torch.Tensor]:
        """Weighted per-type L1 (plus the optional balancing loss).

        Args:
            inputs (Tensor): Rainy images, (B, 3, H, W).
            data_samples (DataSample): Stacked samples with ``gt_img`` and
                ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss`` (and ``loss_balance``) to optimise
            and detached statistics to log.
        """
        ids = self.type_ids(data_samples)
        pred, routes = self.generator.forward_with_routes(inputs, **kwargs)
        per_image = self.pixel_loss(pred, data_samples.gt_img).flatten(1)
        per_image = per_image.mean(dim=1)

        num_types = len(self.rain_types)
        counts = torch.bincount(ids, minlength=num_types).to(per_image)
        sums = per_image.new_zeros(num_types).index_add(0, ids, per_image)
        present = counts > 0
        type_means = sums[present] / counts[present]
        if self.loss_form == 'batch_mean':
            loss = (self.type_weights[ids] * per_image).sum() / ids.numel()
        else:
            weights = self.type_weights[present]
            # clamp: a batch may hold only types whose weight is 0
            loss = (weights * type_means).sum() / \
                weights.sum().clamp_min(1e-12)
        losses = dict(loss=loss)
        if self.balance_loss_weight > 0 and routes:
            losses['loss_balance'] = self.balance_loss_weight * \
                load_balance_loss(routes)

        for t, mean in zip(present.nonzero().flatten().tolist(),
                           type_means.detach()):
            losses[f'l1_{self.rain_types[t]}'] = mean
        losses.update(self.router_stats(routes, ids))
        return losses

    def router_stats(self, routes: List[RouteInfo],
                     ids: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Per type, how often each expert was selected by the Hard-MoE.

        Args:
            routes (list[RouteInfo]): Routes of one forward pass.
            ids (Tensor): Type id per image, (B,).

        Returns:
            dict[str, Tensor]: ``router_<type>_e<k>``: fraction of the
            Hard-MoE decisions of that type's images that selected expert k,
            for the types present in the batch.
        """
        hard = [r.selected.float() for r in routes if r.hard]
        if not hard:
            return {}
        # (B, num_experts): per image, share of hard layers choosing e
        chosen = torch.stack(hard).mean(dim=0)
        stats = {}
        for t in ids.unique().tolist():
            freq = chosen[ids == t].mean(dim=0)
            for e, value in enumerate(freq):
                stats[f'router_{self.rain_types[t]}_e{e}'] = value
        return stats
