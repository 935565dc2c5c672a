"""Analysis passes: each a pure function of a Graph returning its own typed result."""
