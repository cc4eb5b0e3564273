"""The project's common library: settings, database, auth, event bus, errors, GraphQL helpers."""
