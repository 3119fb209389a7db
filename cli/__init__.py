"""The ``layerwise`` command line: a thin layer over ``core`` (one module per command).

    cli.main       the click group, ``main()`` (the ``layerwise`` entry point) and the window fallback
    cli.common     ``fail()``, loading a project for a command, one-line usage errors
    cli.check      ``layerwise check``        cli.export     ``layerwise export``
    cli.train      ``layerwise train``        cli.importing  ``layerwise import``
    cli.catalog    ``layerwise catalog``      cli.report     the text summary ``check`` prints

``cli`` imports ``core``; it imports ``app`` only inside the function that opens the window, so the commands
run without Qt. ``core`` never imports ``cli``.
"""
