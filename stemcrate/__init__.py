"""stemcrate: turn a pile of songs into a library of stems, samples, MIDI and lyrics."""

__version__ = "0.1.0"
