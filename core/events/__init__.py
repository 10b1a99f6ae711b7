"""Event logs: decoded records with provenance (:mod:`core.events.model`)."""
