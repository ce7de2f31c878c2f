"""The seed report's variational autoencoder (`embed.model: vae`), as Keras models.

The report's layer table, rebuilt layer for layer ('same' padding throughout), 336,875
parameters; kernel sizes and strides are the ones that make its shapes and count come out:

    image 32×32×3 → conv1 3 (2×2) → conv2 64 (2×2, stride 2) 16×16 → pool1 8×8 → conv3 48 (3×3)
    → conv4 16 (3×3) → pool2 4×4×16 → flatten 256 → dense1 300 → dense2 125 → z_mean 96, z_log_var 96
    → z (sampling) → decoder: dense3 125 → dense4 300 → expand 256 → unflatten 4×4×16
    → upsample1 8×8 → deconv1 48 (3×3) → deconv2 64 (3×3) → upsample2 16×16
    → deconv3 3 (2×2, stride 2) 32×32 → pixels 3 (2×2, sigmoid)

Hidden layers are ReLU; the last is a sigmoid, so reconstructions are pixels in [0, 1], as the
binary cross-entropy needs. Loss per image, in the report's units: 32·32 × the mean binary
cross-entropy over the 3,072 values of the flattened image (the Keras example's
``original_dim * binary_crossentropy``, with 32·32 for original_dim) plus the KL divergence
−½ Σ(1 + log σ² − μ² − σ²) of the 96-value code; averaged over the batch. The code written
downstream is z_mean (96 float32 values).

Training, evaluation and saving are Keras's own (``fit`` on the same (image, image) batches as the
convolutional autoencoder): the KL term enters through ``add_loss`` in the sampling layer, the
reconstruction term is the compiled loss. Sampling draws ε from a seeded
:class:`keras.random.SeedGenerator`; outside training (predict, evaluate) z is z_mean, so
reconstructions and ``evaluate`` are functions of the weights alone.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off stderr

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

from pipeline.lib.config.embed import VAE_CODE_SIZE, EmbedConfig  # noqa: E402

PIXELS_PER_CHANNEL = 32 * 32  # the report's weight on the mean cross-entropy ("original_dim")


def kl_divergence(z_mean, z_log_var):
    """KL(N(μ, σ²) ‖ N(0, I)) per image: (n, 96) → (n,), −½ Σ(1 + log σ² − μ² − σ²)."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


@keras.saving.register_keras_serializable(package="pipeline")
def report_reconstruction_loss(y_true, y_pred):
    """32·32 × the mean binary cross-entropy of each flattened image: (n, 32, 32, 3) → (n,)."""
    flat_true = ops.reshape(y_true, (ops.shape(y_true)[0], -1))
    flat_pred = ops.reshape(y_pred, (ops.shape(y_pred)[0], -1))
    return PIXELS_PER_CHANNEL * keras.losses.binary_crossentropy(flat_true, flat_pred)


@keras.saving.register_keras_serializable(package="pipeline")
class Sampling(layers.Layer):
    """[z_mean, z_log_var] (n, d) each → z (n, d); adds the batch-mean KL divergence as a loss.

    Training: z = μ + exp(½ log σ²)·ε with ε ~ N(0, I) from a seeded generator (the same seed and
    the same steps give the same draws). Otherwise z = μ.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        kl = ops.mean(kl_divergence(z_mean, z_log_var))
        # Keras scales the compiled loss by 1/replicas under tf.distribute, not add_loss terms:
        # the same scaling here keeps the KL's weight under a MirroredStrategy (1 replica: ×1).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        self.add_loss(kl / replicas if replicas > 1 else kl)
        if not training:
            return z_mean
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def build_vae(config: EmbedConfig, seed: int | None = None) -> tuple[keras.Model, keras.Model]:
    """Return (vae, encoder), compiled with Adam at ``config.learning_rate``.

    Both take float32 images in [0, 1], shape (32, 32, 3); the encoder outputs z_mean (n, 96).
    The VAE outputs reconstructions (n, 32, 32, 3) in [0, 1]; its decoder is the nested model
    ``vae.get_layer("decoder")`` (z (n, 96) → pixels). ``seed`` seeds the sampling noise; None
    draws it from the global seed (:func:`pipeline.lib.autoencoder.make_deterministic`).
    Only ``learning_rate`` is read from ``config``: the sizes are the report's.
    """
    def conv(filters, kernel, name, strides=1):
        return layers.Conv2D(filters, kernel, strides=strides, padding="same", activation="relu", name=name)

    def deconv(filters, kernel, name, strides=1, activation="relu"):
        return layers.Conv2DTranspose(filters, kernel, strides=strides, padding="same",
                                      activation=activation, name=name)

    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = conv(3, 2, "conv1")(inputs)
    x = conv(64, 2, "conv2", strides=2)(x)
    x = layers.MaxPooling2D(padding="same", name="pool1")(x)
    x = conv(48, 3, "conv3")(x)
    x = conv(16, 3, "conv4")(x)
    x = layers.MaxPooling2D(padding="same", name="pool2")(x)
    feature_shape = tuple(int(d) for d in x.shape[1:])  # (4, 4, 16)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(300, activation="relu", name="dense1")(x)
    x = layers.Dense(125, activation="relu", name="dense2")(x)
    z_mean = layers.Dense(VAE_CODE_SIZE, name="z_mean")(x)
    z_log_var = layers.Dense(VAE_CODE_SIZE, name="z_log_var")(x)
    z = Sampling(seed, name="z")([z_mean, z_log_var])
    encoder = keras.Model(inputs, z_mean, name="encoder")

    latent = keras.Input(shape=(VAE_CODE_SIZE,), name="latent")
    y = layers.Dense(125, activation="relu", name="dense3")(latent)
    y = layers.Dense(300, activation="relu", name="dense4")(y)
    y = layers.Dense(int(np.prod(feature_shape)), activation="relu", name="expand")(y)
    y = layers.Reshape(feature_shape, name="unflatten")(y)
    y = layers.UpSampling2D(name="upsample1")(y)
    y = deconv(48, 3, "deconv1")(y)
    y = deconv(64, 3, "deconv2")(y)
    y = layers.UpSampling2D(name="upsample2")(y)
    y = deconv(3, 2, "deconv3", strides=2)(y)
    pixels = deconv(3, 2, "pixels", activation="sigmoid")(y)
    decoder = keras.Model(latent, pixels, name="decoder")

    vae = keras.Model(inputs, decoder(z), name="vae")
    vae.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=report_reconstruction_loss)
    return vae, encoder


def _batches(images: np.ndarray, batch_size: int):
    for start in range(0, len(images), batch_size):
        yield np.asarray(images[start:start + batch_size], dtype=np.float32) / 255.0


def report_units_loss(vae: keras.Model, images: np.ndarray, *, seed: int = 0, batch_size: int = 512) -> float:
    """The report's loss on (n, 32, 32, 3) uint8 ``images``, mean per image (the report: 578.9316).

    32·32 × mean binary cross-entropy + KL divergence, with z sampled as in training, one draw per
    image; ε comes from NumPy's generator seeded with ``seed``, so the value depends only on the
    weights, the images and ``seed`` (not on how far the model's own generator has advanced).
    """
    heads = keras.Model(vae.input, [vae.get_layer("z_mean").output, vae.get_layer("z_log_var").output])
    decoder = vae.get_layer("decoder")
    rng = np.random.default_rng(seed)
    total = 0.0
    for pixels in _batches(images, batch_size):
        # plain calls, not predict: a new model's predict would trace a new tf.function each time
        z_mean, z_log_var = (ops.convert_to_numpy(t) for t in heads(pixels, training=False))
        epsilon = rng.standard_normal(z_mean.shape).astype(np.float32)
        rebuilt = ops.convert_to_numpy(decoder(z_mean + np.exp(0.5 * z_log_var) * epsilon, training=False))
        per_image = report_reconstruction_loss(pixels, rebuilt) + kl_divergence(z_mean, z_log_var)
        total += float(ops.sum(per_image))
    return total / len(images)


def mean_squared_error(vae: keras.Model, images: np.ndarray, *, batch_size: int = 512) -> float:
    """Mean squared error between ``images`` and their reconstructions (from z_mean), pixels in [0, 1].

    The same measure as the convolutional autoencoder's reconstruction_loss, so the two compare.
    """
    total = 0.0
    for pixels in _batches(images, batch_size):
        total += float(np.sum(np.square(vae.predict_on_batch(pixels) - pixels), dtype=np.float64))
    return total / (len(images) * 32 * 32 * 3)
