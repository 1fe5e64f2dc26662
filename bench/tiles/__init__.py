"""Tile and heatmap benchmark against tipg (see run.py)."""
