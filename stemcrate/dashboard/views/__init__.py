"""The dashboard's pages: library, track, samples (one module each, plus shared helpers)."""
