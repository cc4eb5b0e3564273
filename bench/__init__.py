"""Router benchmark: our router against ``@apollo/gateway`` and Hive Gateway (``make bench``).

Benchmark-only code; the router never imports it. See docs/benchmarks.md.
"""
