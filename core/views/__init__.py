"""What each page's "look inside" shows: `<family>_views(trainer) -> dict` of floats and NumPy arrays."""
