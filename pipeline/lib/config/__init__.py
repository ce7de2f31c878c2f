"""params.yaml as typed configs: one frozen, checked config per section, each in its own module.

``pipeline.lib.config.params`` reads the file and checks a section's keys in one message style;
``pipeline.lib.config.<section>`` (demo, data, embed, hog, patches, selftrain, pca, cluster, plot,
eigenfaces) holds that section's config class and the registry its keys choose from (the views
in :mod:`pipeline.lib.config.pca`, the cluster methods, the projections, the autoencoder models).
A stage builds its section's config with ``load(PcaConfig)`` before it reads any input or
imports TensorFlow, so a typo fails in a second with one line: ``params.yaml: pca.dims: expected
a positive integer, found 0``. Library code takes these configs (or plain arguments) and never
reads params.yaml. Defaults live in params.yaml alone: every key a stage reads is required, and no
config field has a default. A check that needs the data (a view's width, a folder's image count)
is a config method, called by the stage once it knows the number; it raises the same
:class:`pipeline.lib.config.params.ConfigError`.

One module per section so that DVC reruns a stage when its own section's rules change, not when
another's do (dvc.yaml lists each stage's code files).
"""
