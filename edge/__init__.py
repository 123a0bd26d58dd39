"""The engine's edge: between the wire contract (`schemas/`, which stands alone) and the
core (`loyalty/`). Decoding wire events into core inputs, loading programme files into the
core's model, mapping domain events to wire records, and exporting the schemas."""
