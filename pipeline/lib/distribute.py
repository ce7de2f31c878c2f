"""The tf.distribute strategy for training, chosen by ``embed.distribution`` in params.yaml.

    strategy = distribution_strategy(config.distribution)
    with strategy.scope():
        autoencoder, encoder = build_autoencoder(config)   # variables and optimizer created here
    autoencoder.fit(...)                                    # outside the scope is fine

``auto``
    :class:`tf.distribute.MirroredStrategy` over every visible GPU when more than one is
    visible; otherwise the default strategy (one device, exactly what runs without a scope).
``none``
    The default strategy, always: one device (the first GPU, or the CPU).
``mirrored``
    MirroredStrategy over every visible GPU even if there is only one (on a machine without
    GPUs, one CPU replica), e.g. to try it out.

With mirroring, ``embed.batch_size`` is the global batch: each of the k replicas gets
batch_size / k images per step, and the gradients are summed across replicas (NCCL on GPUs), so
the same params train the same model in fewer wall-clock seconds. Results are not bit-identical
to a one-device run (the sums are taken in another order). ``CUDA_VISIBLE_DEVICES`` picks which
GPUs are visible.
"""

from __future__ import annotations

from pipeline.lib.config.embed import DISTRIBUTIONS


def visible_gpus() -> list[str]:
    """Names of the GPUs TensorFlow can see (logical devices)."""
    import tensorflow as tf

    return [device.name for device in tf.config.list_logical_devices("GPU")]


def distribution_strategy(name: str = "auto"):
    """The ``tf.distribute.Strategy`` that ``embed.distribution = name`` asks for (see above)."""
    if name not in DISTRIBUTIONS:
        raise ValueError(f"distribution {name!r} is not one of {', '.join(DISTRIBUTIONS)}")
    import tensorflow as tf

    if name == "none":
        return tf.distribute.get_strategy()
    gpus = visible_gpus()
    if name == "auto" and len(gpus) <= 1:
        return tf.distribute.get_strategy()
    return tf.distribute.MirroredStrategy(gpus or None)


def describe(strategy) -> str:
    """One line for the log: the strategy's class and how many replicas it runs."""
    return f"{type(strategy).__name__} ({strategy.num_replicas_in_sync} replica" \
           f"{'s' if strategy.num_replicas_in_sync != 1 else ''})"
