"""warroom: the war-room board for the last hours of a sales campaign."""

__version__ = "0.1.0"
