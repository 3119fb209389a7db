"""``layerwise catalog``: the layer catalog as a Markdown table (the README's layer list)."""
from __future__ import annotations

import click


@click.command("catalog")
def catalog_cmd():
    """Print the layer catalog as a Markdown table."""
    from core.catalog import markdown_table
    click.echo(markdown_table())
