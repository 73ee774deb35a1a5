"""An archived night: replay it read-only through the same API, and write its report."""
