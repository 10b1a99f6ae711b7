"""Registry views: one small interface (:mod:`core.registry.model`), several backends."""
