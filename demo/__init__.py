"""The simulated campaign system the default config watches: the seed's 23:00-00:30 night."""
