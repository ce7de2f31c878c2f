"""Self-training: networks learn the pseudo-labels of a bootstrap clustering; their scores are a view.

Representation learning of the DeepCluster / SCAN kind, before `views` and `reduce`:

1. **Bootstrap.** The unsupervised views (autoencoder codes, HOG, patch dictionary) are reduced
   and clustered exactly as `views`, `reduce` and `cluster` would (whitened PCA of each view,
   then of all side by side; k-means): two pseudo-labels.
2. **Learn them.** Two models learn the pseudo-labels: a logistic regression on the bootstrap's
   components (a linear view of all three), and a small CNN on the pixels, which sees what the
   hand-made views miss (texture, parts) and errs on other images.
3. **Cross-fitting.** The pool is split into ``folds`` parts by a hash of each image's pixels; a
   model trained on the other parts scores each part. No image is scored by a model that learnt
   its pseudo-label, so a bootstrap mistake is not simply learnt back; and an image's part
   depends on its pixels alone, so a visualization image takes exactly the path its copy among
   the competition images would take.

The view written for `reduce` is each image's two out-of-fold scores (logits: > 0 means
pseudo-label 1); a pool of fewer than ``min_images`` images (the 200-image demo) trains no CNN,
and the view is the linear score alone. New images (pipeline.label) are scored by the mean of
the fold models.

TensorFlow is imported only by the functions that train or apply the CNN, so the params can be
checked, and the bootstrap run, without it.

Shapes: views (N, d) float32; labels (N,) int8; folds (N,) int8; scores (N,) float32.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np

from pipeline.lib import arrays, clustering, parallel, pca
from pipeline.lib.config.selftrain import SelftrainConfig
from pipeline.lib.training import predict_batches, shuffled_batches

# the bootstrap is trusted when some view alone splits the pool nearly as it does: at seed 0 the
# codes, HOG and patches alone agree with it on 0.979 / 0.987 / 0.993 of hw7's pool and on
# 0.992 / 0.998 / 0.997 of the holdout's; on the demo's 400 images on 0.86 / 0.86 / 0.85
AGREEMENT = 0.95
# the course's sets are half and half, the holdout 49/51: a bootstrap far from that split something else
SMALLER_SHARE = 0.4
# a doubted bootstrap is split again: k-means into this many parts, merged into two balanced
# halves (balanced_split). On 45,000 images whose faces come in two croppings (hw7's, the
# holdout's and mirrored hw7 copies) the bootstrap split the tight crops off (74.9 % right);
# merging 4 parts gave 99.6 %, 6 parts 99.4 %, 8 parts 99.4 %, 10 parts 99.1 %
RESPLIT_CLUSTERS = 4


def content_folds(images, folds: int) -> np.ndarray:
    """(N,) int8: each image's part, from a hash of its pixels (duplicates share a part).

    ``images``: (N, 32, 32, 3) uint8, an array or a :class:`pipeline.lib.arrays.NpyFile` (streamed).
    """
    parts = []
    for chunk in arrays.iter_chunks(images, 8192):
        for image in np.asarray(chunk):
            digest = hashlib.blake2b(image.tobytes(), digest_size=8).digest()
            parts.append(int.from_bytes(digest, "little") % folds)
    return np.array(parts, dtype=np.int8)


def bootstrap(views: dict, config: SelftrainConfig, seed: int,
              log=print) -> tuple[np.ndarray, np.ndarray, dict, dict[str, float]]:
    """Pseudo-labels (N,) int8 from k-means on the whitened views, the components (N, dims)
    float32 they were found in, the fitted PCAs as arrays (for pipeline.label), and how far each
    view's own two clusters agree with the pseudo-labels (:func:`agreement`, view → fraction)."""
    images = len(next(iter(views.values())))
    dims, joint_dims = config.bootstrap_dims({name: view.shape[1] for name, view in views.items()}, images)
    with parallel.one_thread():
        components, fitted, info, joined = pca.reduce_views(views, dims, joint_dims, whiten=True, seed=seed, log=log)
        labels = clustering.TwoClusters("kmeans", seed).fit(components).predict(components)
        edges = np.cumsum([0] + [info[name]["dims"] for name in views])
        agreements = {name: clustering.agreement(labels, own_clusters(joined[:, start:end], seed))
                      for name, start, end in zip(views, edges[:-1], edges[1:])}
    return labels, components, fitted, agreements


def own_clusters(block: np.ndarray, seed: int) -> np.ndarray:
    """(N,) int8: k-means' two clusters of one view's whitened block (N, dims)."""
    return clustering.TwoClusters("kmeans", seed).fit(block).predict(block)


def bootstrap_warning(labels: np.ndarray, agreements: dict[str, float]) -> str | None:
    """One line when the bootstrap's split looks like a sub-population's (a crop style, a pose, a
    class of objects) rather than the two datasets', which the networks would then learn: its
    smaller cluster holds less than :data:`SMALLER_SHARE` of the pool (the datasets are about half
    each), or no view's own two clusters agree with it on :data:`AGREEMENT` of the images."""
    smaller = float(min(np.mean(labels == 0), np.mean(labels == 1))) if len(labels) else 0.5
    doubts = []
    if smaller < SMALLER_SHARE:
        doubts.append(f"its smaller cluster holds {smaller:.1%} of the pool, where the datasets are about half each")
    if agreements and max(agreements.values()) < AGREEMENT:
        each = ", ".join(f"{name} {value:.3f}" for name, value in agreements.items())
        doubts.append(f"no view's own two clusters agree with it on {AGREEMENT:.0%} of the images ({each})")
    if not doubts:
        return None
    return f"the bootstrap clustering may split a sub-population, not the two datasets: {'; '.join(doubts)}"


def balanced_split(components: np.ndarray, seed: int, clusters: int = RESPLIT_CLUSTERS,
                   least: float = SMALLER_SHARE) -> np.ndarray | None:
    """Two clusters chosen for the datasets rather than for a sub-population: (N,) int8, or None.

    k-means splits the pool into ``clusters`` parts; of every way to merge the parts into two
    groups that each hold at least ``least`` of the pool (the datasets are about half each), the
    one whose groups lie farthest apart (the largest between-group sum of squares, what two-means
    maximises) is kept. None when no merge is that balanced. A sub-population (a crop style)
    becomes one part among several and is merged into its dataset's group.
    """
    from sklearn.cluster import KMeans

    with parallel.one_thread():  # 10 restarts, as the bootstrap's own two-means
        parts = KMeans(clusters, n_init=10, random_state=seed).fit(components)
    counts = np.bincount(parts.labels_, minlength=clusters).astype(np.float64)
    centres = parts.cluster_centers_.astype(np.float64)
    total, best, chosen = counts.sum(), -1.0, None
    for mask in range(1, 2 ** (clusters - 1)):  # part clusters-1 stays on side 0: each split once
        side = np.array([(mask >> part) & 1 for part in range(clusters)], dtype=bool)
        ones = counts[side].sum()
        if min(ones, total - ones) < least * total:
            continue
        mean_1 = counts[side] @ centres[side] / ones
        mean_0 = counts[~side] @ centres[~side] / (total - ones)
        between = ones * (total - ones) / total * float(np.sum((mean_1 - mean_0) ** 2))
        if between > best:
            best, chosen = between, side
    return None if chosen is None else chosen[parts.labels_].astype(np.int8)


def linear_scores(components: np.ndarray, labels: np.ndarray, folds: np.ndarray, c: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold decision values of a logistic regression (inverse strength ``c``) on
    ``components``: (N,) float32, and the fold models as rows of [weights…, intercept]."""
    from sklearn.linear_model import LogisticRegression

    scores = np.zeros(len(components), dtype=np.float32)
    models = []
    with parallel.one_thread():
        for part in range(int(folds.max()) + 1):
            train = folds != part
            if len(np.unique(labels[train])) < 2:  # one cluster took all: nothing to learn
                models.append(np.zeros(components.shape[1] + 1))
                continue
            model = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(components[train], labels[train])
            scores[~train] = model.decision_function(components[~train])
            models.append(np.append(model.coef_[0], model.intercept_[0]))
    return scores, np.array(models)


def apply_linear(models: np.ndarray, components: np.ndarray) -> np.ndarray:
    """New rows' linear score: the mean of the fold models' decision values, (N,) float32."""
    values = np.asarray(components, np.float64) @ models[:, :-1].T + models[:, -1]
    return values.mean(axis=1).astype(np.float32)


# ------------------------------------------------------------------------------------- the CNN
def build_classifier(config: SelftrainConfig, train_images: int):
    """A conv net from float32 images in [0, 1] (32, 32, 3) to one logit (pseudo-label 1 vs 0).

    Per entry of ``filters``: 3×3 convolution, batch norm, ReLU, 2×2 max pooling; then the
    feature maps flattened (where a part is matters: CelebA's faces are aligned), dropout and a
    linear unit. Augmented with horizontal flips only: shifting the aligned faces made the net
    learn more slowly (trained on the 5,000 visualization images' true labels as a check, 20
    epochs, cross-fitted: 98.2 % with 4-pixel shifts and global pooling, 99.3 % with neither).
    Adam with a cosine-decayed rate; label smoothing keeps it from trusting the pseudo-labels
    absolutely.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = layers.RandomFlip("horizontal", name="flip")(inputs)
    for index, width in enumerate(config.filters, start=1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        # momentum 0.9: with a hundred steps an epoch, the default 0.99 leaves the inference
        # statistics far behind the weights and the predictions near chance
        x = layers.BatchNormalization(momentum=0.9, name=f"conv{index}_bn")(x)
        x = layers.ReLU(name=f"conv{index}_relu")(x)
        x = layers.MaxPooling2D(name=f"pool{index}")(x)
    x = layers.Flatten(name="features")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    logit = layers.Dense(1, name="logit")(x)
    model = keras.Model(inputs, logit, name="classifier")
    steps = config.epochs * -(-train_images // config.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="agreement")])
    return model


def _pixels(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float32) / 255.0


def training_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
    """(pixels, pseudo-label) batches for ``model.fit``: float32 images in [0, 1] and float32
    labels, reshuffled with ``seed`` every epoch.

    ``images`` (n, 32, 32, 3) uint8 stay uint8 until a batch is drawn (a quarter of the memory of
    float pixels). Built by :func:`pipeline.lib.training.shuffled_batches` rather than by Keras
    from NumPy arrays: Keras's pipeline autotunes, and stalled up to 10 s at the end of most epochs.
    """
    import tensorflow as tf

    return shuffled_batches((np.asarray(images, np.uint8), np.asarray(labels, np.float32)), batch_size, seed,
                            lambda batch, target: (tf.cast(batch, tf.float32) / 255.0, target))


def cnn_logits(model, images, batch_size: int = 1024) -> np.ndarray:
    """A classifier's logits for (n, 32, 32, 3) uint8 ``images`` (array or chunks' source): (n,)."""
    return np.concatenate([predict_batches(model, _pixels(chunk), batch_size)[:, 0]
                           for chunk in arrays.iter_chunks(images, 8192)] or [np.zeros(0)]).astype(np.float32)


def cnn_scores(images: np.ndarray, labels: np.ndarray, folds: np.ndarray, config: SelftrainConfig,
               seed: int, callbacks=lambda part: [], verbose: int = 2) -> tuple[np.ndarray, list]:
    """Out-of-fold CNN logits for every image (N,) float32, and the fold models.

    Each part's model trains on the other parts (at most ``config.train_samples`` of them, drawn
    with ``seed``) and scores that part. ``callbacks(part)`` gives Keras callbacks for one model
    (e.g. dvclive's, to log its training curve).
    """
    rng = np.random.default_rng(seed)
    scores = np.zeros(len(images), dtype=np.float32)
    models = []
    for part in range(int(folds.max()) + 1):
        train = np.flatnonzero(folds != part)
        if config.train_samples is not None and config.train_samples < len(train):
            train = np.sort(rng.choice(train, config.train_samples, replace=False))
        print(f"selftrain: CNN {part + 1}/{int(folds.max()) + 1}: learning {len(train)} images' pseudo-labels, "
              f"{config.epochs} epochs", file=sys.stderr, flush=True)
        model = build_classifier(config, len(train))
        # shuffle=False: the dataset shuffles itself, with the seed, every epoch
        model.fit(training_dataset(images[train], labels[train], config.batch_size, seed), epochs=config.epochs,
                  shuffle=False, verbose=verbose, callbacks=callbacks(part))
        held_out = np.flatnonzero(folds == part)
        scores[held_out] = cnn_logits(model, images[held_out])
        models.append(model)
    return scores, models
