"""Simulation: clean pictures unprocessed into dark raws with calibrated sensor noise."""
