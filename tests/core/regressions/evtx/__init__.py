"""evtx fuzz findings, handed to the event-log reader's owner (xfail until fixed)."""
