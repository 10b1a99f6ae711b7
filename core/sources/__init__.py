"""Evidence containers: cab, zip, folder, single file (see :func:`core.sources.open_source`)."""
