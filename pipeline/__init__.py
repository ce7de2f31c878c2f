"""NTU ML 2019 Spring HW7 as a DVC pipeline: eigenfaces, and image clustering for Kaggle.

Stage scripts (``python -m pipeline.<stage>``) are thin: they read their section of
params.yaml, call the core modules here, and write their outputs atomically.
"""
