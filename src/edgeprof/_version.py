"""The package version (one place: edgeprof.__version__ and the HTML report read it)."""

__version__ = "0.1.0"
