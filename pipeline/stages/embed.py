"""Stage `embed`: train the autoencoder (embed.model) on the pool and write every image's code.

    python -m pipeline.stages.embed          (params: embed.*, seed)

Reads data/prepared/images.npy (the pool: competition images, then visualization images; see
pipeline.lib.pool) and rows.json. Trains the convolutional autoencoder, or the seed report's variational one
(embed.model: vae), on every row (or, with embed.train_samples, on a
sample of the competition rows plus all visualization rows); no label is read. Writes
data/embed/codes.npy (n + 2k, latent size) float32, data/embed/reconstructions.npy
(2, 32, 32, 32, 3) uint8 (32 visualization images, then their reconstructions),
data/embed/architecture.json, data/embed/summary.json (the losses, for the report),
models/autoencoder.keras, and the training curve under dvclive/embed (read by plot_training).
"""

from __future__ import annotations

import time

import numpy as np

from pipeline.lib import paths
from pipeline.lib.arrays import NpyFile, NpyWriter, iter_npy_chunks, read_rows
from pipeline.lib.atomic import atomic_path, save_json, save_npy
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.embed import EmbedConfig
from pipeline.lib.errors import stage_guard
from pipeline.lib.pool import Rows
from pipeline.lib.training import keras_verbosity, quiet_tensorflow


def reconstruction_sample(visualization: np.ndarray, count: int = 32) -> np.ndarray:
    """Indices of ``count`` visualization images, half from each dataset, evenly spaced."""
    half = len(visualization) // 2
    per_half = np.linspace(0, half - 1, count // 2).astype(int)
    return np.concatenate([per_half, half + per_half])


def training_rows(rows: Rows, config: EmbedConfig, seed: int) -> np.ndarray:
    """The pool rows to train on, in file order: all of them, or with embed.train_samples a
    sample of the competition rows and every visualization row (the visualization images take
    the competition images' path, so they are trained on alike)."""
    every = np.arange(rows.total)
    if config.train_samples is None or config.train_samples >= rows.competition:
        return every
    sample = np.random.default_rng(seed).choice(rows.competition, size=int(config.train_samples), replace=False)
    return np.concatenate([np.sort(sample), rows.visualization_part(every)])


def train(config: EmbedConfig, images: np.ndarray, seed: int):
    """Build and train the model on ``images`` (n, 32, 32, 3) uint8; (model, encoder, history).
    The loss curve goes to dvclive/embed."""
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from pipeline.lib import autoencoder as ae
    from pipeline.lib.distribute import distribution_strategy

    ae.make_deterministic(seed)
    with distribution_strategy(config.distribution).scope():  # several GPUs: mirrored replicas
        model, encoder = ae.build_model(config, seed)
    model.summary(print_fn=lambda line, **_: print(line))
    with Live(str(paths.EMBED_LIVE), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        # shuffle=False: the dataset shuffles itself, with the seed, every epoch
        history = model.fit(ae.training_dataset(images, config, seed), epochs=int(config.epochs), shuffle=False,
                            callbacks=[DVCLiveCallback(live=live)], verbose=keras_verbosity())
    return model, encoder, history


def main() -> None:
    # TensorFlow is imported only once params are known to be valid: a typo fails in a second.
    # (pca.dims is checked against code_size by the reduce stage: embed must not read pca.)
    config = load(EmbedConfig)
    seed = load_seed()
    # Inputs next (cheap): a missing file is reported before TensorFlow loads too.
    rows = Rows.read()
    images = NpyFile(paths.IMAGES)

    quiet_tensorflow()
    import keras  # noqa: F401 (TensorFlow's start-up happens here, once the inputs are known)

    from pipeline.lib import autoencoder as ae

    started = time.perf_counter()
    # Plain reads of the rows, in file order: through a memory map, the pages around each row
    # would stay resident (2.5 GB at a million images).
    training = read_rows(images.path, training_rows(rows, config, seed))
    print(f"embed: training on {len(training)} of {rows.total} images ({rows.visualization} of them "
          f"visualization images, their labels unread), {config.epochs} epochs")
    model, encoder, history = train(config, training, seed)

    # Streamed from the file in chunks and written with plain writes, not through memory maps,
    # whose touched pages would all count as resident: a million images stay at a few chunks.
    with atomic_path(paths.CODES) as tmp, NpyWriter(tmp, (rows.total, config.latent_size), "float32") as codes:
        ae.encode(encoder, iter_npy_chunks(images.path, 8192), codes, label="encode images")
    visualization = read_rows(images.path, rows.visualization_part(np.arange(rows.total)))
    shown = visualization[reconstruction_sample(visualization)]
    save_npy(paths.RECONSTRUCTIONS, np.stack([shown, ae.reconstruct(model, shown)]))
    save_json(paths.ARCHITECTURE, {
        "model": config.model, "loss": ae.loss_description(config),
        "optimizer": f"Adam (learning rate {config.learning_rate})",
        "total_params": int(model.count_params()), "encoder_params": int(encoder.count_params()),
        "layers": ae.layer_table(model),
    })
    with atomic_path(paths.AUTOENCODER) as tmp:
        ae.save_model(model, tmp)
    save_json(paths.EMBED_SUMMARY, {
        **ae.evaluation_metrics(model, config, visualization),
        "final_training_loss": float(history.history["loss"][-1]),
        "train_images": len(training), "code_size": int(config.latent_size),
    })
    print(f"embed: done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    stage_guard(main)
