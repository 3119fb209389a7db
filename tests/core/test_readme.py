"""The README's layer catalog is generated from the catalog and cannot drift."""
from core.catalog import markdown_table
from tests.conftest import ROOT


def test_readme_catalog_table_matches_the_catalog():
    text = (ROOT / "README.md").read_text()
    start, end = text.index("<!-- catalog:start -->"), text.index("<!-- catalog:end -->")
    assert text[start:end].split("\n", 1)[1].strip() == markdown_table().strip(), \
        "README layer table is stale: regenerate it with `layerwise catalog`"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[test]" && python -m pytest' in readme
    assert "python -m pytest" in ci.splitlines()[-1]
