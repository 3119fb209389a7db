import pytest


@pytest.fixture(scope="session", autouse=True)
def _keras_once():
    """Import TensorFlow once, quietly, before the first case (its first import prints to stderr)."""
    from core.tfload import import_keras
    import_keras()
