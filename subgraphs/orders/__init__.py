"""orders: placing, tracking and changing pizza orders."""
