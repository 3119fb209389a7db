"""Dockable panels: layer palette, inspector, project settings, problems, summary."""
