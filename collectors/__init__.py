"""Sources of the war-room numbers: one module per source type, listed in `registry`."""
