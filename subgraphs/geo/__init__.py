"""geo subgraph: stores, opening hours, delivery zones, store locator and geocoding. Owns ``Store``."""
