"""The daemon (`warroom collect`): wires collectors, store, engine and API; the scheduler; the demo night's clock."""
