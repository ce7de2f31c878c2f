"""pipeline.lib.vae (the seed report's VAE) and embed.model: parameter count, the loss by hand, training."""

from __future__ import annotations

import numpy as np
import pytest
from configs import config_of

from pipeline.lib.config.embed import EmbedConfig
from pipeline.lib.errors import InputError

ae = pytest.importorskip("pipeline.lib.autoencoder")  # imports TensorFlow (a few seconds, once)
vae = pytest.importorskip("pipeline.lib.vae")
keras = pytest.importorskip("keras")

VAE = config_of(EmbedConfig, model="vae", batch_size=8)
REPORT_PARAMS = 336_875  # the seed report's total


def fresh(config: EmbedConfig = VAE, seed: int = 0, sampling_seed: int | None = 5):
    keras.backend.clear_session()  # layer and optimizer auto-names restart, as in a new process
    ae.make_deterministic(seed)
    return ae.build_model(config, sampling_seed)


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def numpy_loss(pixels, rebuilt, z_mean, z_log_var):
    """The report's loss per image, by hand: 32·32 × mean BCE over 3,072 values + KL; float64."""
    x = pixels.reshape(len(pixels), -1).astype(np.float64)
    p = rebuilt.reshape(len(rebuilt), -1).astype(np.float64)
    bce = -np.mean(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    mu, log_var = z_mean.astype(np.float64), z_log_var.astype(np.float64)
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var), axis=1)
    return 1024 * bce + kl


def heads_and_decoder(model):
    heads = keras.Model(model.input, [model.get_layer("z_mean").output, model.get_layer("z_log_var").output])
    return heads, model.get_layer("decoder")


def test_parameter_count_and_shapes_are_the_reports():
    model, encoder = fresh()
    assert model.count_params() == REPORT_PARAMS
    rows = ae.layer_table(model)
    assert sum(row["params"] for row in rows) == REPORT_PARAMS
    shapes = {row["name"]: row["output_shape"] for row in rows}
    assert shapes["conv2"] == [None, 16, 16, 64]  # the 2×2 stride-2 convolution
    assert shapes["flatten"] == [None, 256]
    assert shapes["upsample2"] == [None, 16, 16, 64]
    assert shapes["deconv3"] == [None, 32, 32, 3]  # the 2×2 stride-2 transposed convolution
    assert tuple(model.output.shape) == (None, 32, 32, 3)
    assert tuple(encoder.output.shape) == (None, 96) == (None, VAE.latent_size)
    assert encoder.output is model.get_layer("z_mean").output  # the code is z_mean


def test_evaluate_is_the_reports_loss_at_z_mean():
    """Outside training z = z_mean: evaluate's loss is the hand-computed loss with ε = 0."""
    model, _ = fresh()
    pixels = images(6).astype(np.float32) / 255.0
    heads, decoder = heads_and_decoder(model)
    z_mean, z_log_var = heads.predict(pixels, verbose=0)
    rebuilt = decoder.predict(z_mean, verbose=0)
    expected = numpy_loss(pixels, rebuilt, z_mean, z_log_var).mean()
    assert model.evaluate(pixels, pixels, batch_size=6, verbose=0) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), rebuilt, atol=1e-6)


def test_training_loss_samples_z_from_the_seeded_generator():
    """fit's first reported loss (before any update) is the hand-computed loss at z = μ + σ·ε,
    with ε the first draw of a generator seeded like the sampling layer."""
    model, _ = fresh(sampling_seed=11)
    model.get_layer("z_log_var").bias.assign(np.full(96, 2.0, np.float32))  # σ ≈ e: noise that shows
    pixels = images(6, seed=1).astype(np.float32) / 255.0
    heads, decoder = heads_and_decoder(model)
    z_mean, z_log_var = heads.predict(pixels, verbose=0)
    epsilon = keras.ops.convert_to_numpy(
        keras.random.normal(z_mean.shape, seed=keras.random.SeedGenerator(11)))
    z = z_mean + np.exp(0.5 * z_log_var) * epsilon
    expected = numpy_loss(pixels, decoder.predict(z, verbose=0), z_mean, z_log_var).mean()
    at_z_mean = numpy_loss(pixels, decoder.predict(z_mean, verbose=0), z_mean, z_log_var).mean()
    history = model.fit(pixels, pixels, batch_size=6, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert expected != pytest.approx(at_z_mean, rel=1e-4)  # the noise did enter


def test_sampling_layer():
    """Training: z = μ + exp(½ log σ²)·ε, ε the seeded generator's draws; otherwise z = μ."""
    z_mean = np.linspace(-1, 1, 2 * 96, dtype=np.float32).reshape(2, 96)
    z_log_var = np.log(np.full((2, 96), 4.0, np.float32))  # σ = 2
    layer = vae.Sampling(seed=3)
    epsilon = keras.ops.convert_to_numpy(keras.random.normal((2, 96), seed=keras.random.SeedGenerator(3)))
    z = keras.ops.convert_to_numpy(layer([z_mean, z_log_var], training=True))
    np.testing.assert_allclose(z, z_mean + 2 * epsilon, rtol=1e-6, atol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(layer([z_mean, z_log_var], training=True)), z)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer([z_mean, z_log_var])), z_mean)
    kl = -0.5 * np.sum(1 + np.log(4.0) - z_mean.astype(np.float64) ** 2 - 4.0, axis=1).mean()
    assert float(layer.losses[0]) == pytest.approx(kl, rel=1e-6)


def test_report_units_loss_is_the_hand_computation_with_its_seeded_epsilon():
    model, _ = fresh()
    batch = images(5, seed=2)
    pixels = batch.astype(np.float32) / 255.0
    heads, decoder = heads_and_decoder(model)
    z_mean, z_log_var = heads.predict(pixels, verbose=0)
    rng = np.random.default_rng(3)  # report_units_loss draws ε batch by batch: 2, 2, then 1 image
    epsilon = np.concatenate([rng.standard_normal((k, 96)).astype(np.float32) for k in (2, 2, 1)])
    z = z_mean + np.exp(0.5 * z_log_var) * epsilon
    by_hand = numpy_loss(pixels, decoder.predict(z, verbose=0), z_mean, z_log_var).mean()
    value = vae.report_units_loss(model, batch, seed=3, batch_size=2)
    assert value == pytest.approx(by_hand, rel=1e-5)
    assert vae.report_units_loss(model, batch, seed=3, batch_size=2) == value  # repeatable
    assert vae.report_units_loss(model, batch, seed=4, batch_size=2) != value


def test_evaluation_metrics():
    model, _ = fresh()
    batch = images(4)
    metrics = ae.evaluation_metrics(model, VAE, batch)
    assert set(metrics) == {"reconstruction_loss", "report_units_loss"}
    pixels = batch.astype(np.float32) / 255.0
    mse = np.mean((model.predict(pixels, verbose=0).astype(np.float64) - pixels) ** 2)
    assert metrics["reconstruction_loss"] == pytest.approx(mse, rel=1e-5)
    conv_config = config_of(EmbedConfig, filters=(4,), code_size=4)
    conv, _ = fresh(conv_config)
    assert ae.evaluation_metrics(conv, conv_config, batch) == {
        "reconstruction_loss": ae.reconstruction_loss(conv, batch)}


def trained_weights(seed: int, steps: int = 1):
    model, _ = fresh(seed=seed, sampling_seed=None)  # the noise's seed from the global seed
    data = ae.training_dataset(images(8 * steps, seed=4), VAE, seed)
    model.fit(data, epochs=1, shuffle=False, verbose=0)  # the dataset shuffles itself
    return model, np.concatenate([w.ravel() for w in model.get_weights()])


def test_one_training_step_lowers_the_loss_deterministically():
    pixels = images(8, seed=4).astype(np.float32) / 255.0
    untrained, _ = fresh(seed=0, sampling_seed=None)
    before = untrained.evaluate(pixels, pixels, verbose=0)
    model, weights = trained_weights(0)
    assert model.optimizer.iterations.numpy() == 1
    assert model.evaluate(pixels, pixels, verbose=0) < before
    assert np.array_equal(trained_weights(0)[1], weights)
    assert not np.array_equal(trained_weights(1)[1], weights)


def test_build_model_chooses_by_config():
    conv_config = config_of(EmbedConfig, filters=(4, 8), code_size=6)
    model, encoder = fresh(conv_config)
    assert model.name == "autoencoder" and tuple(encoder.output.shape) == (None, 6) == (None, conv_config.latent_size)
    assert ae.encoder_of(model).output is model.get_layer("code").output
    assert "cross-entropy" in ae.loss_description(VAE) and "squared" in ae.loss_description(conv_config)


def test_model_param():
    assert config_of(EmbedConfig).model == "conv_ae"
    config = config_of(EmbedConfig, model="vae")
    assert config.model == "vae" and config.latent_size == 96 and config.code_size == 128
    for value in ("VAE", "autoencoder", None, 1):
        with pytest.raises(InputError) as error:
            config_of(EmbedConfig, model=value)
        message = str(error.value)
        assert message.startswith("params.yaml: embed.model: expected one of conv_ae ")
        assert "vae (the seed report's variational autoencoder)" in message
        assert message.endswith(f"found {value!r}") and "\n" not in message
