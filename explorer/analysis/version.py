"""The analysis version, apart from the pipeline so that reading it imports nothing heavy.

The GUI process keys its cache lookups with it, and it never needs librosa itself.
"""

#: Bumped whenever a change alters results: it is part of every cache key.
ANALYSIS_VERSION = "1.26"
