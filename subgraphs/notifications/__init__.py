"""notifications subgraph: in-app, email, SMS and push notifications with preferences."""
