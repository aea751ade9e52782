"""eax-data: English-anchored x2x (EAX) machine-translation preference datasets."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``eax_data.load("ORG/NAME@vX.Y.Z", "de-zh")``: a release as a ``datasets.DatasetDict`` (lazy import)."""
    if name == "load":
        from eax_data.release import load

        return load
    raise AttributeError(f"module 'eax_data' has no attribute {name!r}")
