"""Rules a company sets in TOML: the scorecard, value tiers, access, and their one TOML reader."""
