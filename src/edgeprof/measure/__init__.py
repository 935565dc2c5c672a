"""Real runs: latency statistics, peak memory, energy counters."""
