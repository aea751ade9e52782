"""datatrove pipeline compositions and bundled YAML recipes (imported as ``eax_data.pipelines``)."""
