"""The command line: ``python -m cslib ...`` and the reports it prints."""
