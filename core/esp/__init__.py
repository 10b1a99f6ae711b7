"""ESP analysis: from :class:`core.evidence.Evidence` to :class:`core.esp.model.EspReport`."""
