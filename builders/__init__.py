"""datatrove pipeline steps for EAX builds, one family per module (imported as ``eax_data.builders``)."""
