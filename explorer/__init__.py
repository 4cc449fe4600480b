"""Music Explorer: see and hear the structure of your own songs."""

__version__ = "0.1.0"
