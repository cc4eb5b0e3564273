"""Small Strawberry federation subgraphs (accounts, products, inventory, reviews) for router tests.

Each module exposes ``schema`` (a ``strawberry.federation.Schema``); ``recording.py``
serves any of them over ASGI while logging every request body it receives.
"""
