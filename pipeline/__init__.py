"""NTU ML 2019 Spring HW7 as a DVC pipeline: eigenfaces, and image clustering for Kaggle.

    pipeline/stages/   one module per dvc.yaml stage, named as the stage: params, paths, calls
                       into the library, atomic writes (``python -m pipeline.stages.<stage>``)
    pipeline/lib/      the library the stages and commands call; it imports no stage
    pipeline/label.py       command: label a new test set with a finished run, nothing retrained
    pipeline/eigenfaces.py  command: the course's pca.sh (rebuild one face from the top 5)
"""
