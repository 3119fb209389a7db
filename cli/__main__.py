"""``python -m cli ...`` is ``layerwise ...``."""
from .main import main

main()
