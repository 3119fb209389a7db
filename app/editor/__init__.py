"""The graph editor: scene (items follow the core graph's events), view (zoom, pan, drop), items, layout."""
