"""menu subgraph: categories, products, variants, toppings, store availability, pricing, coupons.

Owns ``Product``; extends ``Store`` with ``menu``; prices carts for orders (``priceLines``).
"""
