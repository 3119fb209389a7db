"""Layerwise's PySide6 window: a view over ``core`` (the graph editor, panels, files).

Entry point: ``app.main.run_gui(path)``. Only this package imports Qt; ``core`` never does.
"""
