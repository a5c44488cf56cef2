"""stoat's benchmarks: `python -m benchmarks` builds its own libraries, prints figures, ratios."""
