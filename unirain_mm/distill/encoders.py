"""Captioners and CLIP-style embedders of the distillation pipeline.

Two families, both built from config through :data:`ENCODERS`:

* mmpretrain models (:class:`BlipCaptioner`, :class:`ClipEmbedder`): BLIP
  captions and CLIP image/text embeddings, weights from a local path or URL
  and the tokenizer from a local directory or hub name.
* Deterministic, weight-free stand-ins (:class:`StatsCaptioner`,
  :class:`HashEmbedder`) that describe images by simple statistics. They let
  the pipeline run anywhere (the demo config, tests); their captions and
  embeddings are not semantic and must not be used for real distillation.

Every encoder takes RGB uint8 images (H, W, 3) of any size and returns L2
normalised float32 embeddings (N, D).
"""
import copy
import os
import os.path as osp
import zlib
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np
import torch

from .registry import ENCODERS

CLIP_B16_CONFIG = 'mmpretrain::clip/clip_vit-base-p16_zeroshot-cls_in1k.py'
# OpenAI CLIP's RGB statistics, used by both BLIP and CLIP in mmpretrain.
CLIP_MEAN = (122.770938, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)


def resolve_device(device: str = 'auto') -> torch.device:
    """``'auto'``: this process's GPU (``LOCAL_RANK`` under torchrun) when
    CUDA is available, else the CPU."""
    if device != 'auto':
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
    return torch.device('cpu')


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` (N, D) scaled to unit length, as float32."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class BaseCaptioner:
    """Writes one caption per image."""

    def caption(self, images: Sequence[np.ndarray]) -> List[str]:
        """Captions of RGB images (H, W, 3) uint8."""
        raise NotImplementedError


class BaseEmbedder:
    """Embeds images and captions into the spaces the retrieval searches."""

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Unit image embeddings (N, D_image) of RGB images (H, W, 3)."""
        raise NotImplementedError

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Unit caption embeddings (N, D_text)."""
        raise NotImplementedError


# --------------------------------------------------------------- mmpretrain


def _local_checkpoint(checkpoint: str) -> str:
    """A local file for ``checkpoint``; a URL is downloaded once into
    torch's hub cache; either is read by mmengine's loader, which
    :mod:`unirain_mm.checkpoint` makes ``weights_only=True``."""
    if not checkpoint.startswith(('http://', 'https://')):
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
        return checkpoint
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(folder, osp.basename(checkpoint.split('?')[0]))
    if not osp.isfile(path):
        os.makedirs(folder, exist_ok=True)
        torch.hub.download_url_to_file(checkpoint, path, progress=True)
    return path


class _MMPretrainModel:
    """Builds an mmpretrain model and feeds it normalised image batches.

    Args:
        model (str | dict): mmpretrain model name, config file path,
            ``'mmpretrain::<config under mmpretrain's configs>'``, or a model
            config dict.
        checkpoint (str, optional): Weights: a local path or an http(s) URL.
            ``None`` keeps the random initialisation (tests only).
        tokenizer (str | dict, optional): A local directory or hub name
            (replaces ``name_or_path`` of the model's tokenizer), or a dict
            merged into the model's tokenizer config.
        input_size (int): Side the images are resized to.
        mean (Sequence[float]): RGB mean (0-255 scale).
        std (Sequence[float]): RGB standard deviation.
        device (str): ``'auto'``, ``'cpu'``, ``'cuda:1'``...
        fp16 (bool): Half-precision autocast on CUDA.
    """

    def __init__(self,
                 model: Union[str, dict],
                 checkpoint: Optional[str] = None,
                 tokenizer: Optional[Union[str, dict]] = None,
                 input_size: int = 224,
                 mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD,
                 device: str = 'auto',
                 fp16: bool = False) -> None:
        from mmengine.config import Config
        from mmengine.runner import load_checkpoint
        from mmpretrain import get_model
        overrides = {}
        if isinstance(tokenizer, str):
            overrides['tokenizer'] = dict(name_or_path=tokenizer)
        elif tokenizer is not None:
            overrides['tokenizer'] = dict(tokenizer)
        if isinstance(model, dict):
            spec = Config(dict(model=copy.deepcopy(model)))
        elif model.startswith('mmpretrain::'):
            import mmpretrain
            spec = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                            'configs', model[len('mmpretrain::'):])
        else:
            spec = model
        self.device = resolve_device(device)
        self.model = get_model(spec, pretrained=False, **overrides)
        if checkpoint:
            load_checkpoint(self.model, _local_checkpoint(checkpoint),
                            map_location='cpu', strict=True)
        self.model.to(self.device).eval()
        self.input_size = input_size
        self.mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, 3, 1, 1)
        self.fp16 = fp16 and self.device.type == 'cuda'

    def _batch(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """(N, 3, S, S) normalised float tensor on the model's device."""
        size = (self.input_size, self.input_size)
        arr = np.stack([
            cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
            for img in images
        ])
        x = torch.from_numpy(arr).to(self.device).permute(0, 3, 1, 2)
        return (x.float() - self.mean) / self.std

    def _autocast(self):
        return torch.autocast('cuda', dtype=torch.float16,
                              enabled=self.fp16)


@ENCODERS.register_module()
class BlipCaptioner(_MMPretrainModel, BaseCaptioner):
    """BLIP captions (mmpretrain ``BlipCaption``, beam search).

    Args:
        model (str | dict): Defaults to mmpretrain's
            ``'blip-base_3rdparty_caption'`` (ViT-B, 384 px).
        input_size (int): Defaults to 384, BLIP's caption resolution.
        **kwargs: See :class:`_MMPretrainModel`.
    """

    def __init__(self,
                 model: Union[str, dict] = 'blip-base_3rdparty_caption',
                 input_size: int = 384,
                 **kwargs) -> None:
        super().__init__(model, input_size=input_size, **kwargs)

    @torch.no_grad()
    def caption(self, images: Sequence[np.ndarray]) -> List[str]:
        with self._autocast():
            samples = self.model.predict(self._batch(images))
        return [s.pred_caption.strip() for s in samples]


@ENCODERS.register_module()
class ClipEmbedder(_MMPretrainModel, BaseEmbedder):
    """CLIP image and text embeddings (an mmpretrain ``CLIP`` model).

    Args:
        model (str | dict): Defaults to mmpretrain's ViT-B/16 CLIP
            (``CLIPZeroShot``) config, which needs OpenAI's CLIP weights
            converted to mmpretrain's layout (mmpretrain's
            ``tools/model_converters/openai-clip_to_mmpretrain-clip.py``).
        input_size (int): Defaults to 224.
        **kwargs: See :class:`_MMPretrainModel`.
    """

    def __init__(self,
                 model: Union[str, dict] = CLIP_B16_CONFIG,
                 input_size: int = 224,
                 **kwargs) -> None:
        super().__init__(model, input_size=input_size, **kwargs)

    @torch.no_grad()
    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        with self._autocast():
            feats = self.model.extract_image_feat(self._batch(images))
        return l2_normalize(feats.float().cpu().numpy())

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        tokens = self.model.tokenize(list(texts)).to(self.device)
        with self._autocast():
            feats = self.model.extract_text_feat(tokens)
        return l2_normalize(feats.float().cpu().numpy())


# ------------------------------------------------------------ weight-free


@ENCODERS.register_module()
class StatsCaptioner(BaseCaptioner):
    """Deterministic captions from image statistics (no weights).

    Words for brightness, colour, detail, the dominant edge direction and
    bright light sources, e.g. ``'a dark photo, colourful, detailed,
    vertical lines, glowing lights'``. Not a description a person would
    write; it exists so that the pipeline runs without model weights.
    """

    def caption(self, images: Sequence[np.ndarray]) -> List[str]:
        return [self._describe(img) for img in images]

    @staticmethod
    def _describe(img: np.ndarray) -> str:
        img = cv2.resize(img, (128, 128), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        sat = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)[..., 1].mean()
        light = grey.mean()
        words = ['a dark photo' if light < 70 else
                 'a dim photo' if light < 115 else 'a bright photo',
                 'colourful' if sat > 80 else 'muted colours',
                 'detailed' if cv2.Laplacian(grey, cv2.CV_32F).var() > 400
                 else 'smooth']
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        # Edge direction is perpendicular to the gradient; fold to [0, 180).
        angle = (np.degrees(np.arctan2(gy, gx)) + 90) % 180
        hist = np.bincount((angle // 45).astype(int).ravel() % 4,
                           weights=np.hypot(gx, gy).ravel(), minlength=4)
        words.append(('horizontal lines', 'slanted lines', 'vertical lines',
                      'slanted lines')[int(hist.argmax())])
        if (grey > 235).mean() > 0.01:
            words.append('glowing lights')
        return ', '.join(words)


def _hash_index(token: str, dim: int):
    """Bucket and sign of ``token`` in a ``dim``-dimensional hashed vector."""
    h = zlib.crc32(token.encode('utf-8'))
    return h % dim, 1.0 if (h >> 31) & 1 else -1.0


@ENCODERS.register_module()
class HashEmbedder(BaseEmbedder):
    """Deterministic, weight-free image and text embeddings.

    * Text: hashed bag of words and character trigrams.
    * Image: a fixed random projection (seeded) of an 8x8 colour thumbnail
      and a 2x2-cell histogram of gradient directions.

    Args:
        dim (int): Embedding size of both spaces.
        seed (int): Seed of the image projection.
    """

    def __init__(self, dim: int = 128, seed: int = 0) -> None:
        self.dim = dim
        feat_dim = 8 * 8 * 3 + 2 * 2 * 8
        self._proj = np.random.default_rng(seed).standard_normal(
            (feat_dim, dim)).astype(np.float32)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in zip(out, texts):
            for word in text.lower().replace(',', ' ').split():
                grams = [word] + [word[i:i + 3]
                                  for i in range(max(1, len(word) - 2))]
                for gram in grams:
                    idx, sign = _hash_index(gram, self.dim)
                    row[idx] += sign
        return l2_normalize(out)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return l2_normalize(np.stack([self._features(img) for img in images])
                            @ self._proj)

    @staticmethod
    def _features(img: np.ndarray) -> np.ndarray:
        small = cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA)
        thumb = cv2.resize(small, (8, 8), interpolation=cv2.INTER_AREA)
        thumb = thumb.astype(np.float32).ravel() / 255 - 0.5
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        bins = ((np.arctan2(gy, gx) + np.pi) / (2 * np.pi) * 8).astype(int)
        mag = np.hypot(gx, gy)
        hists = []
        for rows in (slice(0, 32), slice(32, 64)):
            for cols in (slice(0, 32), slice(32, 64)):
                h = np.bincount(np.minimum(bins[rows, cols], 7).ravel(),
                                weights=mag[rows, cols].ravel(), minlength=8)
                hists.append(h / max(h.sum(), 1e-6))
        return np.concatenate([thumb, np.concatenate(hists)])


def build_encoders(cfg: dict):
    """Build ``(captioner, embedder)`` from the ``encoders`` config section,
    ``dict(captioner=dict(type=...), embedder=dict(type=...))``."""
    for role in ('captioner', 'embedder'):
        if role not in cfg:
            raise KeyError(f'the encoders config needs a {role!r} entry')
    return ENCODERS.build(cfg['captioner']), ENCODERS.build(cfg['embedder'])


def encoder_signature(cfg: dict) -> dict:
    """What fixes the embedding spaces of a config's encoders: the
    ``captioner`` and ``embedder`` configs without run-time settings
    (device, precision). Queries and knowledge base must agree on it."""
    runtime = {'device', 'fp16'}
    return {
        role: {k: v for k, v in dict(cfg[role]).items() if k not in runtime}
        for role in ('captioner', 'embedder')
    }
