"""Reliability: what the product promises across processes, restarts and time."""
