"""users subgraph: accounts, roles, sign-in tokens and saved addresses. Owns ``User``."""
