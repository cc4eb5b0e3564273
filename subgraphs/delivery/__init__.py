"""delivery subgraph: drivers, dispatch, positions, ETA."""
