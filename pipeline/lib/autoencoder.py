"""The autoencoders: a function from params to Keras models, and their training.

``embed.model`` chooses the convolutional autoencoder here (conv_ae) or the seed report's
variational autoencoder (vae, :mod:`pipeline.lib.vae`); :func:`build_model` and the functions
below serve both, so the `embed` stage does not branch on the choice. Only these modules and
the stages that train or load models import TensorFlow; everything downstream reads the latent
arrays they write.

Shapes: images are (n, 32, 32, 3) uint8; codes are (n, config.latent_size) float32.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off stderr

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from pipeline.lib import vae  # noqa: E402 (also registers the VAE's layers for keras.models.load_model)
from pipeline.lib.config.embed import EmbedConfig  # noqa: E402
from pipeline.lib.training import predict_batches, shuffled_batches  # noqa: E402

CODE_LAYERS = ("code", "z_mean")  # the layer whose output is the code: conv_ae, vae


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_autoencoder(config: EmbedConfig) -> tuple[keras.Model, keras.Model]:
    """Return (autoencoder, encoder). Both take float32 images in [0, 1], shape (32, 32, 3).

    Encoder: per entry of ``filters``, a 3×3 stride-2 convolution with batch norm and ReLU;
    then a dense layer to ``code_size``. The decoder mirrors it with transposed convolutions
    and ends in a sigmoid, so reconstructions are pixels in [0, 1].
    """
    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = inputs
    for index, filters in enumerate(config.filters, start=1):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"conv{index}_bn")(x)
        x = layers.ReLU(name=f"conv{index}_relu")(x)
    feature_shape = tuple(int(d) for d in x.shape[1:])
    x = layers.Flatten(name="flatten")(x)
    code = layers.Dense(config.code_size, name="code")(x)
    encoder = keras.Model(inputs, code, name="encoder")

    y = layers.Dense(int(np.prod(feature_shape)), activation="relu", name="expand")(code)
    y = layers.Reshape(feature_shape, name="unflatten")(y)
    for index, filters in reversed(list(enumerate(config.filters, start=1))):
        out_filters = config.filters[index - 2] if index > 1 else 32
        y = layers.Conv2DTranspose(out_filters, 3, strides=2, padding="same", use_bias=False,
                                   name=f"deconv{index}")(y)
        y = layers.BatchNormalization(momentum=0.9, name=f"deconv{index}_bn")(y)
        y = layers.ReLU(name=f"deconv{index}_relu")(y)
    outputs = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="pixels")(y)
    autoencoder = keras.Model(inputs, outputs, name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    return autoencoder, encoder


def build_model(config: EmbedConfig, seed: int | None = None) -> tuple[keras.Model, keras.Model]:
    """Return (model, encoder) for ``config.model``, compiled; the encoder writes the codes.

    conv_ae: :func:`build_autoencoder` (``seed`` unused); vae: :func:`pipeline.lib.vae.build_vae`,
    whose encoder outputs z_mean and whose ``seed`` seeds the sampling noise (None: drawn from
    the global seed of :func:`make_deterministic`). Both train with ``model.fit`` on
    :func:`training_dataset`.
    """
    if config.model == "vae":
        return vae.build_vae(config, seed)
    return build_autoencoder(config)


def encoder_of(model: keras.Model) -> keras.Model:
    """The encoder inside a (loaded) model of either kind: images → codes (z_mean for the VAE)."""
    names = {layer.name for layer in model.layers}
    code = next(name for name in CODE_LAYERS if name in names)
    return keras.Model(model.input, model.get_layer(code).output)


def loss_description(config: EmbedConfig) -> str:
    """The training loss of ``config.model`` in words, for architecture.json and the report."""
    if config.model == "vae":
        return ("32·32 × binary cross-entropy of the flattened image (pixels scaled to [0, 1]) "
                "+ KL divergence of the 96-value code, mean per image")
    return "mean squared error (pixels scaled to [0, 1])"


def training_dataset(images: np.ndarray, config: EmbedConfig, seed: int) -> tf.data.Dataset:
    """(input, target) batches of float32 images in [0, 1]; flips apply to both alike.
    The pipeline, autotuning off: :func:`pipeline.lib.training.shuffled_batches`."""

    def to_pair(batch):
        batch = tf.cast(batch, tf.float32) / 255.0
        if config.flip:
            batch = tf.image.random_flip_left_right(batch, seed=seed)
        return batch, batch

    return shuffled_batches(images, config.batch_size, seed, to_pair)


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer of ``model`` (recursing into nested models): name, type, output shape, params."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows.extend(layer_table(layer))
            continue
        shape = layer.output.shape if hasattr(layer, "output") else None
        rows.append({"name": layer.name, "type": type(layer).__name__,
                     "output_shape": [None if d is None else int(d) for d in shape] if shape else None,
                     "params": int(layer.count_params())})
    return rows


def encode(encoder: keras.Model, images, out, *, batch_size: int = 1024,
           progress: bool = True, label: str = "encode") -> np.ndarray:
    """Encode uint8 images into float32 codes (n, latent_size), chunk by chunk, in order.

    ``images``: an (n, 32, 32, 3) array, or an iterable of (k, 32, 32, 3) chunks (e.g.
    :func:`pipeline.lib.arrays.iter_npy_chunks`, so a file of a million images is never mapped
    into memory). ``out``: an (n, latent_size) array filled in order, or a writer with
    ``write(chunk)`` and ``len()`` (:class:`pipeline.lib.arrays.NpyWriter`). Returns ``out``.
    Only one chunk of images and of codes is in memory at a time.
    """
    from pipeline.lib.parallel import map_chunks

    def codes_of(pixels):
        batch = np.asarray(pixels, dtype=np.float32) / 255.0
        return predict_batches(encoder, batch, batch_size)

    return map_chunks(codes_of, images, out, chunk=8192, label=label, done_as="images encoded",
                      progress=progress)


def reconstruct(autoencoder: keras.Model, images: np.ndarray) -> np.ndarray:
    """Reconstructions of (n, 32, 32, 3) uint8 ``images``, as uint8 of the same shape."""
    pixels = autoencoder.predict(np.asarray(images, dtype=np.float32) / 255.0, verbose=0)
    return np.clip(np.round(pixels * 255.0), 0, 255).astype(np.uint8)


def reconstruction_loss(autoencoder: keras.Model, images: np.ndarray, batch_size: int = 512) -> float:
    """Mean squared error between ``images`` and their reconstructions, pixels scaled to [0, 1].

    The conv AE's compiled loss (for either model, use :func:`evaluation_metrics`).
    """
    x = np.asarray(images, dtype=np.float32) / 255.0
    return float(autoencoder.evaluate(x, x, batch_size=batch_size, verbose=0))


def evaluation_metrics(model: keras.Model, config: EmbedConfig, images: np.ndarray) -> dict:
    """Metrics of a trained model on (n, 32, 32, 3) uint8 ``images``, for data/embed/summary.json.

    ``reconstruction_loss``: the mean squared error (pixels in [0, 1]) for both models, so they
    compare; for the VAE also ``report_units_loss``, its loss in the seed report's units
    (:func:`pipeline.lib.vae.report_units_loss`; the report: 578.9316).
    """
    if config.model == "vae":
        return {"reconstruction_loss": vae.mean_squared_error(model, images),
                "report_units_loss": vae.report_units_loss(model, images)}
    return {"reconstruction_loss": reconstruction_loss(model, images)}


def save_model(model: keras.Model, path) -> None:
    """Save ``model`` as a .keras file whose bytes depend only on the model.

    ``model.save`` alone differs from run to run with identical weights: metadata.json holds the
    save time, config.json holds Python object ids ("shared_object_id") and the weights' zip
    entry carries the current time. Those three are normalized here (ids renumbered 1, 2, …
    in order of appearance, which keeps the sharing they describe), so same params give the
    same model file, and dvc.lock the same hash.
    """
    import json
    import re
    import zipfile

    model.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    ids: dict[bytes, int] = {}
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            if info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            elif info.filename == "config.json":
                data = re.sub(rb'"shared_object_id": (\d+)',
                              lambda m: b'"shared_object_id": %d' % ids.setdefault(m.group(1), len(ids) + 1),
                              data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            archive.writestr(fixed, data)
