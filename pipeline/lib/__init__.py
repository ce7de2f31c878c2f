"""The library the stages and commands share, importable and tested without DVC. It imports no stage."""
