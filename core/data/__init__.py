"""Datasets. `dataset.make_dataset(spec)` builds any kind; `base.Dataset` is what it returns.

This package's own module imports nothing, so core/registry.py can name the toy generators.
"""
