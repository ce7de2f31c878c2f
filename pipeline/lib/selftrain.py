"""Self-training: a convolutional classifier fitted to the clusters' own labels (TensorFlow).

The `refine` stage's second view. Trained on pseudo-labels (the two clusters), a small CNN
learns what the clusters have in common, texture and parts, rather than what the pixel-wise
autoencoder loss rewards, colour and layout, so it errs on other images than the linear
views do. Each image is scored by a model that did not train on it (cross-fitting), so a
cluster's mistake is not simply learned back.

Shapes: images (n, 32, 32, 3) uint8, labels (n,) in {0, 1} → scores (n,) float32 logits.
"""

from __future__ import annotations

import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402


def build_classifier(filters, train_images: int, epochs: int, batch_size: int,
                     learning_rate: float) -> keras.Model:
    """A conv net from float32 images in [0, 1] (32, 32, 3) to one logit (cluster 1 vs 0).

    Per entry of ``filters``: 3×3 convolution, batch norm, ReLU, 2×2 max pooling; then global
    average pooling, dropout and a linear unit. Augmented with flips and shifts of up to 4 px
    so it keys on parts, not positions. Cosine-decayed Adam; label smoothing keeps it from
    trusting the pseudo-labels absolutely.
    """
    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = layers.RandomFlip("horizontal", name="flip")(inputs)
    x = layers.RandomTranslation(0.125, 0.125, fill_mode="reflect", name="shift")(x)
    for index, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        # momentum 0.9: with a hundred steps an epoch, the default 0.99 leaves the inference
        # statistics far behind the weights and the predictions near chance
        x = layers.BatchNormalization(momentum=0.9, name=f"conv{index}_bn")(x)
        x = layers.ReLU(name=f"conv{index}_relu")(x)
        x = layers.MaxPooling2D(name=f"pool{index}")(x)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    logit = layers.Dense(1, name="logit")(x)
    model = keras.Model(inputs, logit, name="classifier")
    steps = epochs * -(-train_images // batch_size)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1))
    return model


def _pixels(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float32) / 255.0


def cross_fit_scores(images: np.ndarray, labels: np.ndarray, visualization: np.ndarray, *,
                     filters, folds: int, epochs: int, batch_size: int, learning_rate: float,
                     seed: int, label: str = "refine") -> tuple[np.ndarray, np.ndarray, list]:
    """Out-of-fold logits for ``images``, fold-averaged logits for ``visualization``, and the
    fold models (new images are scored, like visualization, by their average).

    The images are split at random (``seed``) into ``folds`` parts; a classifier trained on
    the other parts scores each part. ``folds`` 1 trains one model on everything and scores
    its own training images (faster, but it learns the clusters' mistakes back).
    """
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(images)) % folds
    scores = np.zeros(len(images), dtype=np.float32)
    visualization_scores = np.zeros(len(visualization), dtype=np.float32)
    models = []
    for fold in range(folds):
        train = fold_of != fold if folds > 1 else np.ones(len(images), dtype=bool)
        held_out = ~train if folds > 1 else train
        print(f"{label}: fold {fold + 1}/{folds}: training on {int(train.sum())} images, "
              f"{epochs} epochs", file=sys.stderr, flush=True)
        model = build_classifier(filters, int(train.sum()), epochs, batch_size, learning_rate)
        model.fit(_pixels(images[train]), labels[train].astype(np.float32), batch_size=batch_size,
                  epochs=epochs, shuffle=True, verbose=2)
        scores[held_out] = score(model, images[held_out])
        visualization_scores += score(model, visualization) / folds
        models.append(model)
    return scores, visualization_scores, models


def score(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """A classifier's logits for (n, 32, 32, 3) uint8 ``images``: (n,) float32."""
    return model.predict(_pixels(images), batch_size=1024, verbose=0)[:, 0].astype(np.float32)


def spread(scores: np.ndarray) -> float:
    """The unit a view's scores are summed in: their standard deviation over the images (1 if 0)."""
    return float(np.std(scores)) or 1.0


def combine(linear: np.ndarray, cnn: np.ndarray, scales) -> np.ndarray:
    """The summed score, label 1 where > 0: sign × (linear / its spread + cnn / its spread).

    ``scales``: (the linear view's spread, the CNN's spread, sign), as refine saves them in
    data/refine/model/scales.npy for pipeline.label, which labels new images with this too.
    """
    linear_scale, cnn_scale, sign = (float(value) for value in scales)
    return (sign * (linear / linear_scale + cnn / cnn_scale)).astype(np.float32)
