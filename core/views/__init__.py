"""What each page's "look inside" shows: `core/views/<family>.py` defines `<family>_views(trainer)`."""
