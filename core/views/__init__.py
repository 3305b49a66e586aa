"""What each page's look-inside views show, per family: arrays measured from the live model."""
