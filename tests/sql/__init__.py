"""SQL tier: books built through the real pipeline or importer; models, queries and imports checked against hand-computed answers."""
