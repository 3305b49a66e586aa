"""What each page's "look inside" shows, one module per family: `<family>_views(trainer) -> dict`."""
