"""Benchmarks and the plain-pandas reference implementations: outside the product (nothing in cslib imports them)."""
