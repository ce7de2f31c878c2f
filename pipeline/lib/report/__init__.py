"""The homework report: its inputs (inputs.py), its rendering (render.py) and its templates."""
