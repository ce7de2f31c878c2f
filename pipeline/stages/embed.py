"""Stage `embed`: train the autoencoder (embed.model) on the pool and write every image's code.

    python -m pipeline.stages.embed          (params: embed.*, seed)

Reads data/prepared/images.npy (the pool: competition images, then visualization images; see
pipeline.lib.pool) and rows.json. Trains the convolutional autoencoder, or the seed report's variational one
(embed.model: vae), on every row (or, with embed.train_samples, on a
sample of the competition rows plus all visualization rows); no label is read. Writes
data/embed/codes.npy (n + 2k, latent size) float32, data/embed/reconstructions.npy
(2, 32, 32, 32, 3) uint8 (32 visualization images, then their reconstructions),
data/embed/architecture.json, models/autoencoder.keras, metrics/embed.json, and the training
curve under dvclive/embed (declared as a plot in dvc.yaml).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.lib.arrays import NpyFile, NpyWriter, iter_npy_chunks, read_rows
from pipeline.lib.atomic import atomic_path, save_json, save_npy
from pipeline.lib.autoencoder_config import AutoencoderConfig
from pipeline.lib.errors import main_guard
from pipeline.lib.params import load_params
from pipeline.lib.pool import Rows
from pipeline.lib.training import keras_verbosity, quiet_tensorflow

PREPARED = Path("data/prepared")
OUT = Path("data/embed")
MODEL = Path("models/autoencoder.keras")
LIVE_DIR = Path("dvclive/embed")


def reconstruction_sample(visualization: np.ndarray, count: int = 32) -> np.ndarray:
    """Indices of ``count`` visualization images, half from each dataset, evenly spaced."""
    half = len(visualization) // 2
    per_half = np.linspace(0, half - 1, count // 2).astype(int)
    return np.concatenate([per_half, half + per_half])


def main(argv: list[str]) -> None:
    params = load_params("embed")
    # TensorFlow is imported only once params are known to be valid: a typo fails in a second.
    # (pca.dims is checked against code_size by the reduce stage: embed must not read pca.)
    config = AutoencoderConfig.from_params(params)
    seed = int(params["seed"])
    # Inputs next (cheap): a missing file is reported before TensorFlow loads too.
    rows = Rows.read()
    images = NpyFile(PREPARED / "images.npy")
    visualization = rows.visualization_part(np.arange(rows.total))  # their row numbers

    quiet_tensorflow()
    import keras
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from pipeline.lib import autoencoder as ae

    started = time.perf_counter()
    ae.make_deterministic(seed)
    rng = np.random.default_rng(seed)
    train_rows = np.arange(rows.total)
    if config.train_samples is not None and config.train_samples < rows.competition:
        # A sample of the competition rows, and every visualization row: the visualization
        # images take the competition images' path, so they are trained on alike.
        sample = np.sort(rng.choice(rows.competition, size=int(config.train_samples), replace=False))
        train_rows = np.concatenate([sample, visualization])
    # Plain reads of the rows, sorted so the file is read front to back: through a memory
    # map, the pages around each row would stay resident (2.5 GB at 1M images).
    train = read_rows(images.path, train_rows)
    print(f"embed: training on {len(train)} of {rows.total} images ({rows.visualization} of them "
          f"visualization images, their labels unread), {config.epochs} epochs")

    from pipeline.lib.distribute import distribution_strategy

    with distribution_strategy(config.distribution).scope():  # several GPUs: mirrored replicas
        autoencoder, encoder = ae.build_model(config, seed)
    autoencoder.summary(print_fn=lambda line, **_: print(line))
    with Live(str(LIVE_DIR), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        # shuffle=False: the dataset shuffles itself, with the seed, every epoch
        history = autoencoder.fit(ae.training_dataset(train, config, seed), epochs=int(config.epochs), shuffle=False,
                                  callbacks=[DVCLiveCallback(live=live)], verbose=keras_verbosity())

    # Streamed from the file in chunks and written with plain writes, not through memory maps,
    # whose touched pages would all count as resident: a million images stay at a few chunks.
    with atomic_path(OUT / "codes.npy") as tmp, \
            NpyWriter(tmp, (rows.total, config.latent_size), "float32") as codes:
        ae.encode(encoder, iter_npy_chunks(images.path, 8192), codes, label="encode images")

    visualization_images = read_rows(images.path, visualization)
    shown = visualization_images[reconstruction_sample(visualization_images)]
    save_npy(OUT / "reconstructions.npy", np.stack([shown, ae.reconstruct(autoencoder, shown)]))
    save_json(OUT / "architecture.json", {
        "model": config.model,
        "loss": ae.loss_description(config),
        "optimizer": f"Adam (learning rate {config.learning_rate})",
        "total_params": int(autoencoder.count_params()),
        "encoder_params": int(encoder.count_params()),
        "layers": ae.layer_table(autoencoder),
    })
    with atomic_path(MODEL) as tmp:
        ae.save_model(autoencoder, tmp)
    save_json("metrics/embed.json", {
        **ae.evaluation_metrics(autoencoder, config, visualization_images),
        "final_training_loss": float(history.history["loss"][-1]),
        "train_images": len(train),
        "code_size": int(config.latent_size),
    })
    print(f"embed: done in {time.perf_counter() - started:.1f} s")
    del keras


if __name__ == "__main__":
    main_guard(main)
