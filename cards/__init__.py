"""Dataset card templates and rendering (imported as ``eax_data.cards``)."""
