"""What each page's "look inside" shows, per family: `<family>_views(trainer) -> dict` of floats and arrays."""
