"""The homework report: the run's files read and checked (inputs.py) and named (origin.py), its
numbers gathered and formatted (content.py), rendered through the templates to Markdown and one
self-contained HTML page (render.py, page.py), and its stylesheet."""
