"""Device catalogue (data with sources) and its loader."""
