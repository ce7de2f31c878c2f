"""Stage `embed`: train the convolutional autoencoder and write the latent codes.

    python -m pipeline.embed          (params: embed.*, seed)

Reads data/prepared/{images,visualization}.npy. Writes data/embed/codes.npy (n, code_size)
float32, data/embed/visualization_codes.npy (2k, code_size) float32,
data/embed/reconstructions.npy (2, 32, 32, 32, 3) uint8 (32 visualization images, then their
reconstructions), data/embed/architecture.json, models/autoencoder.keras, metrics/embed.json,
and training curves under dvclive/embed (declared as plots in dvc.yaml).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.lib.arrays import NpyWriter, iter_npy_chunks, read_rows
from pipeline.lib.atomic import atomic_path, save_json, save_npy
from pipeline.lib.autoencoder_config import AutoencoderConfig
from pipeline.lib.errors import main_guard
from pipeline.lib.params import load_params

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
    # Inputs next (memory-mapped, cheap): a missing file is reported before TensorFlow loads too.
    images = np.load(PREPARED / "images.npy", mmap_mode="r")
    visualization = np.load(PREPARED / "visualization.npy")

    import keras
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from pipeline.lib import autoencoder as ae

    started = time.perf_counter()
    ae.make_deterministic(seed)
    rng = np.random.default_rng(seed)
    if config.train_samples is not None and config.train_samples < len(images):
        # Plain reads of the sampled rows, sorted so the file is read front to back: through the
        # memory map, the pages around each row would stay resident (2.5 GB at 1M images).
        sample = np.sort(rng.choice(len(images), size=int(config.train_samples), replace=False))
        train = read_rows(PREPARED / "images.npy", sample)
    else:
        train = np.asarray(images)
    print(f"embed: training on {len(train)} of {len(images)} images, {config.epochs} epochs")

    from pipeline.lib.distribute import distribution_strategy

    with distribution_strategy(config.distribution).scope():  # several GPUs: mirrored replicas
        autoencoder, encoder = ae.build_autoencoder(config)
    autoencoder.summary(print_fn=lambda line, **_: print(line))
    with Live(str(LIVE_DIR), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        history = autoencoder.fit(ae.training_dataset(train, config, seed), epochs=int(config.epochs),
                                  # verbose=1: Keras's progress bar on a terminal, a line per epoch in a log
                                  callbacks=[DVCLiveCallback(live=live)], verbose=1)

    # Streamed from the file in chunks and written with plain writes, not through memory maps,
    # whose touched pages would all count as resident: a million images stay at a few chunks.
    with atomic_path(OUT / "codes.npy") as tmp, \
            NpyWriter(tmp, (len(images), config.code_size), "float32") as codes:
        ae.encode(encoder, iter_npy_chunks(PREPARED / "images.npy", 8192), codes, label="encode images")
    visualization_codes = np.empty((len(visualization), config.code_size), dtype=np.float32)
    ae.encode(encoder, visualization, visualization_codes, label="encode visualization")
    save_npy(OUT / "visualization_codes.npy", visualization_codes)

    shown = visualization[reconstruction_sample(visualization)]
    save_npy(OUT / "reconstructions.npy", np.stack([shown, ae.reconstruct(autoencoder, shown)]))
    save_json(OUT / "architecture.json", {
        "loss": "mean squared error (pixels scaled to [0, 1])",
        "optimizer": f"Adam (learning rate {config.learning_rate})",
        "total_params": int(autoencoder.count_params()),
        "encoder_params": int(encoder.count_params()),
        "layers": ae.layer_table(autoencoder),
    })
    with atomic_path(MODEL) as tmp:
        ae.save_model(autoencoder, tmp)
    save_json("metrics/embed.json", {
        "reconstruction_loss": ae.reconstruction_loss(autoencoder, visualization),
        "final_training_loss": float(history.history["loss"][-1]),
        "train_images": len(train),
        "code_size": int(config.code_size),
    })
    print(f"embed: done in {time.perf_counter() - started:.1f} s")
    del keras


if __name__ == "__main__":
    main_guard(main)
