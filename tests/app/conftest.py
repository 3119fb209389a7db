"""The window's tests run with the window's garbage collection (cycles collected on the GUI thread only, from a
timer: app/workbench/gc_tuning.py); the tests after them (core, cli) get Python's automatic collection back."""
import pytest


@pytest.fixture(scope="package", autouse=True)
def _python_collects_again_after_the_window_tests():
    yield
    from app.workbench.gc_tuning import automatic_collection
    automatic_collection()
