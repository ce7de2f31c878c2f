"""pipeline.lib.autoencoder without DVC: shapes, the layer table, config checks, encode, saving."""

from __future__ import annotations

import numpy as np
import pytest
from configs import config_of

from pipeline.lib.config.embed import EmbedConfig
from pipeline.lib.errors import InputError

ae = pytest.importorskip("pipeline.lib.autoencoder")  # imports TensorFlow (a few seconds, once)
keras = pytest.importorskip("keras")

SMALL = config_of(EmbedConfig, filters=(4, 8), code_size=6, epochs=1, batch_size=4)


def fresh(config: EmbedConfig = SMALL, seed: int = 0):
    keras.backend.clear_session()  # layer and optimizer auto-names restart, as in a new process
    ae.make_deterministic(seed)
    return ae.build_model(config)


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("filters", [(4, 8), (3,), (2, 2, 2, 2, 2)])
def test_shapes(filters):
    autoencoder, encoder = fresh(config_of(EmbedConfig, filters=filters, code_size=16))
    assert tuple(encoder.output.shape) == (None, 16)
    assert tuple(autoencoder.output.shape) == (None, 32, 32, 3)
    assert tuple(autoencoder.input.shape) == (None, 32, 32, 3)
    convs = [layer for layer in encoder.layers if type(layer).__name__ == "Conv2D"]
    assert [layer.filters for layer in convs] == list(filters)
    assert tuple(convs[-1].output.shape) == (None, 32 >> len(filters), 32 >> len(filters), filters[-1])


def test_encoder_shares_the_autoencoders_weights():
    autoencoder, encoder = fresh()
    assert encoder.get_layer("code") is autoencoder.get_layer("code")
    assert encoder.count_params() < autoencoder.count_params()


def test_reconstructions_are_pixels():
    autoencoder, _ = fresh()
    rebuilt = ae.reconstruct(autoencoder, images(3))
    assert rebuilt.shape == (3, 32, 32, 3) and rebuilt.dtype == np.uint8


def test_layer_table():
    autoencoder, encoder = fresh()
    rows = ae.layer_table(autoencoder)
    assert [row["name"] for row in rows] == [layer.name for layer in autoencoder.layers]
    assert set(rows[0]) == {"name", "type", "output_shape", "params"}
    by_name = {row["name"]: row for row in rows}
    assert by_name["code"] == {"name": "code", "type": "Dense", "output_shape": [None, 6],
                               "params": (8 * 8 * 8 + 1) * 6}  # 8×8×8 after two blocks of 4, 8 filters
    assert by_name["conv1"]["output_shape"] == [None, 16, 16, 4]
    assert by_name["conv1"]["params"] == 3 * 3 * 3 * 4  # no bias: batch norm follows
    assert by_name["pixels"]["output_shape"] == [None, 32, 32, 3]
    assert sum(row["params"] for row in rows) == autoencoder.count_params()
    assert len(ae.layer_table(encoder)) < len(rows)


@pytest.mark.parametrize("key,value", [
    ("filters", ()), ("filters", (8, 0)), ("filters", (2,) * 6), ("code_size", 0), ("epochs", 0),
    ("batch_size", -1), ("learning_rate", 0.0), ("train_samples", 0),
])
def test_validate_names_the_key(key, value):
    with pytest.raises(InputError, match=rf"params\.yaml: embed\.{key}: expected"):
        config_of(EmbedConfig, **{key: value})


def test_from_params_accepts_the_yaml_section():
    config = config_of(EmbedConfig, filters=[8, 16], code_size=16, epochs=2)
    assert config.filters == (8, 16) and config.code_size == 16 and config.epochs == 2
    assert config.batch_size == config_of(EmbedConfig).batch_size


def test_encode_matches_predict():
    _, encoder = fresh()
    batch = images(10)
    expected = encoder.predict(batch.astype(np.float32) / 255.0, verbose=0)
    for batch_size in (4, 1024):  # predict() in batches, and predict_on_batch()
        out = np.full((10, 6), np.nan, dtype=np.float32)
        assert ae.encode(encoder, batch, out, batch_size=batch_size, progress=False) is out
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_training_dataset_pairs_input_with_itself():
    config = config_of(EmbedConfig, filters=(4,), code_size=4, batch_size=4, flip=True)
    batches = list(ae.training_dataset(images(10), config, seed=0))
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    for x, y in batches:
        x, y = x.numpy(), y.numpy()
        assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
        np.testing.assert_array_equal(x, y)  # a flip applies to input and target alike


def test_predict_batches_gives_what_keras_predict_gives():
    from pipeline.lib.training import predict_batches

    _, encoder = fresh()
    pixels = images(10).astype(np.float32) / 255.0
    ours = predict_batches(encoder, pixels, 4)  # batches of 4, 4, 2
    np.testing.assert_array_equal(ours, encoder.predict(pixels, batch_size=4, verbose=0))
    assert ours.shape == (10, SMALL.code_size)


def test_training_dataset_does_not_autotune():
    # tf.data's autotuning thread made Keras wait up to 10 s at each epoch's end (training.py)
    config = config_of(EmbedConfig, filters=(4,), code_size=4, batch_size=4)
    assert ae.training_dataset(images(10), config, seed=0).options().autotune.enabled is False


def test_same_seed_same_weights_different_seed_different():
    def weights(seed):
        autoencoder, _ = fresh(seed=seed)
        return np.concatenate([w.ravel() for w in autoencoder.get_weights()])

    assert np.array_equal(weights(0), weights(0))
    assert not np.array_equal(weights(0), weights(1))


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("config", [SMALL, config_of(EmbedConfig, model="vae")], ids=["conv_ae", "vae"])
def test_save_model_is_byte_reproducible_and_loads(tmp_path, config):
    saved = []
    for name in ("a.keras", "b.keras"):
        autoencoder, encoder = fresh(config)
        ae.save_model(autoencoder, tmp_path / name)
        saved.append((tmp_path / name).read_bytes())
    assert saved[0] == saved[1]
    loaded = keras.models.load_model(tmp_path / "a.keras")  # the VAE's custom layer is registered
    batch = images(2).astype(np.float32) / 255.0
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), autoencoder.predict(batch, verbose=0),
                               atol=1e-6)
    # what label does with the loaded model: its encoder, for either kind
    np.testing.assert_allclose(ae.encoder_of(loaded).predict(batch, verbose=0), encoder.predict(batch, verbose=0),
                               atol=1e-6)
