"""eax-data: English-anchored x2x (EAX) machine-translation preference datasets."""

__version__ = "0.1.0"
