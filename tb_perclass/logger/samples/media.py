"""Turning the inputs of kept samples into something the tab can show: PNG images or text.

Images are accepted from PyTorch (N, C, H, W), TensorFlow/Keras (N, H, W, C) and NumPy (either),
or as (N, H, W) grayscale; the layout is inferred from where the channel axis (1, 3 or 4 wide) is,
and must be given as `layout=` when both ends could be channels. Values become 8-bit pixels per
image as follows:

- uint8 (and integers within 0..255): as they are; booleans: 0 and 255;
- floats within [0, 1]: times 255; within [-1, 1]: (x + 1) / 2 times 255;
- anything else (standardised inputs, other integers): stretched from the image's own minimum
  to its maximum;
- or, when `denormalize` is given, whatever it returns for the image (HWC or HW float array):
  values in [0, 1], or uint8.

NaN and infinities become 0. Images larger than `max_side` on either side are downscaled
(Pillow, box filter) before encoding; the PNG encoding itself is Pillow's.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

LAYOUTS = ("NCHW", "NHWC", "NHW")
CHANNELS = (1, 3, 4)
MAX_PIXELS = 4096 * 4096  # per image; larger inputs are refused rather than copied around
DEFAULT_MAX_SIDE = 256
CHUNK_BYTES = 64 * 2**20  # kept images are copied and converted this many bytes at a time

PNG = "image/png"
TEXT = "text/plain"


@dataclasses.dataclass(frozen=True)
class Media:
    """One sample, ready to write: encoded bytes, media type, and pixel size for images."""

    data: bytes
    media_type: str
    width: int = 0
    height: int = 0


@dataclasses.dataclass(frozen=True)
class InputsSpec:
    """How a writer reads `inputs`: fixed at the first batch with inputs."""

    kind: str  # "image" or "text"
    layout: str | None = None
    height: int = 0
    width: int = 0
    channels: int = 0

    def pool_factor(self, max_side: int) -> int:
        """Integer factor by which images can be averaged on the device before the copy to the
        host and still be at least `max_side` on their longer side (exact resize follows)."""
        return max(1, max(self.height, self.width) // max_side)

    def chunk(self, max_side: int) -> int:
        """How many images to copy and convert at a time, to bound the transient memory."""
        factor = self.pool_factor(max_side)
        pixels = -(-self.height // factor) * -(-self.width // factor) * max(self.channels, 1)
        return max(1, CHUNK_BYTES // (8 * pixels))


def inspect_inputs(
    shape: Sequence[int] | None,
    dtype_name: str | None,
    batch_size: int,
    layout: str | None,
    is_text: bool,
) -> InputsSpec:
    """Checks `inputs` from shapes and dtypes only and says how to read them.

    `shape`/`dtype_name` describe an array; `is_text` a sequence of strings of length `shape[0]`.
    Raises ValueError/TypeError naming the problem and the fix.
    """
    if is_text:
        if shape[0] != batch_size:
            raise ValueError(
                f"inputs has {shape[0]} texts but the batch has {batch_size} samples; pass one "
                "input per sample"
            )
        return InputsSpec(kind="text")
    shape = tuple(shape)
    if not shape or shape[0] != batch_size:
        raise ValueError(
            f"inputs has shape {shape} but the batch has {batch_size} samples; pass the batch's "
            "inputs, one per sample along the first axis"
        )
    if dtype_name is not None and not _supported_dtype(dtype_name):
        raise TypeError(
            f"inputs has dtype {dtype_name}; images must be unsigned 8-bit, integer, boolean or "
            "floating-point, texts a list of str"
        )
    if layout is not None:  # one of LAYOUTS (`spec.sample_options` checked it)
        if len(shape) != len(layout):
            raise ValueError(
                f"layout={layout!r} needs inputs of rank {len(layout)}; got shape {shape}"
            )
    else:
        layout = _infer_layout(shape)
    height, width = _image_size(shape, layout)
    channels = _channels(shape, layout)
    if channels not in CHANNELS:
        raise ValueError(
            f"inputs of shape {shape} read as {layout} have {channels} channels; images have "
            "1 (gray), 3 (RGB) or 4 (RGBA)"
        )
    if height * width > MAX_PIXELS:
        raise ValueError(
            f"inputs are {height}x{width} images ({height * width / 1e6:.0f} megapixels), more "
            f"than the {MAX_PIXELS / 1e6:.0f} megapixels tb-perclass copies per sample; pass a "
            "downscaled copy (e.g. torch.nn.functional.interpolate or tf.image.resize)"
        )
    return InputsSpec(kind="image", layout=layout, height=height, width=width, channels=channels)


def _supported_dtype(name: str) -> bool:
    return name in ("uint8", "bool") or name.startswith(("int", "uint", "float", "bfloat"))


def _infer_layout(shape: tuple[int, ...]) -> str:
    if len(shape) == 3:
        return "NHW"
    if len(shape) != 4:
        raise ValueError(
            f"inputs of shape {shape} are neither images (N, C, H, W), (N, H, W, C) or (N, H, W) "
            "nor a list of texts; reshape flat features to images first (e.g. x.reshape(-1, 8, "
            "8)), or do not pass inputs"
        )
    first, last = shape[1] in CHANNELS, shape[3] in CHANNELS
    if first and not last:
        return "NCHW"
    if last and not first:
        return "NHWC"
    raise ValueError(
        f"cannot tell where the channels of inputs with shape {shape} are: pass layout='NCHW' "
        "(PyTorch) or layout='NHWC' (TensorFlow, Keras) to the writer"
    )


def _image_size(shape: tuple[int, ...], layout: str) -> tuple[int, int]:
    return shape[layout.index("H")], shape[layout.index("W")]


def _channels(shape: tuple[int, ...], layout: str) -> int:
    return 1 if layout == "NHW" else shape[layout.index("C")]


def to_pixels(
    images: np.ndarray, layout: str, denormalize: Callable[[np.ndarray], Any] | None = None
) -> np.ndarray:
    """Images [n, ...] in `layout` as uint8 pixels [n, H, W] (gray) or [n, H, W, C], each image
    mapped by its own value range (see the module docstring)."""
    images = np.asarray(images)
    if layout == "NCHW":
        images = np.moveaxis(images, 1, -1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if denormalize is not None:
        mapped = np.stack(
            [np.asarray(denormalize(np.asarray(i, dtype=np.float32))) for i in images]
        )
        if mapped.dtype != np.uint8:
            mapped = np.clip(np.nan_to_num(mapped.astype(np.float64)), 0.0, 1.0) * 255.0
        return np.rint(mapped).astype(np.uint8)
    if images.dtype == np.uint8:
        return images
    if images.dtype == np.bool_:
        return images.astype(np.uint8) * 255
    values = images.astype(np.float32)
    if not np.isfinite(values).all():
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    # One scale and offset per image, from its own range; then a single multiply-add.
    flat = values.reshape(len(values), -1)
    integer = bool(np.issubdtype(images.dtype, np.integer))
    mappings = (
        [
            _scale_offset(low, high, integer)
            for low, high in zip(flat.min(axis=1).tolist(), flat.max(axis=1).tolist())
        ]
        if flat.size
        else [(0.0, 0.0)] * len(flat)
    )
    shape = (-1,) + (1,) * (values.ndim - 1)
    scale = np.array([m[0] for m in mappings], dtype=np.float32).reshape(shape)
    offset = np.array([m[1] for m in mappings], dtype=np.float32).reshape(shape)
    scaled = values * scale + offset
    return np.rint(np.clip(scaled, 0, 255, out=scaled), out=scaled).astype(np.uint8)


def _scale_offset(low: float, high: float, integer: bool) -> tuple[float, float]:
    """pixel = value * scale + offset, by the rules of the module docstring."""
    if integer and low >= 0 and high <= 255:
        return 1.0, 0.0
    if not integer and low >= 0 and high <= 1:
        return 255.0, 0.0
    if not integer and low >= -1 and high <= 1:
        return 127.5, 127.5
    if high > low:  # standardised or unbounded: stretch this image's range to 0..255
        scale = 255.0 / (high - low)
        return scale, -low * scale
    return 0.0, 0.0


def downscale(pixels: np.ndarray, max_side: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    if max(height, width) <= max_side:
        return pixels
    from PIL import Image

    ratio = max_side / max(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BOX))


def encode_png(pixels: np.ndarray) -> Media:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return Media(buffer.getvalue(), PNG, width=pixels.shape[1], height=pixels.shape[0])


def encode_text(text: str) -> Media:
    return Media(str(text).encode("utf-8"), TEXT)
