"""The DVC stages, one module each, named as in dvc.yaml. A stage imports the library, never another stage."""
