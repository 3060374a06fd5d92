"""Rules a company sets in TOML: the scorecard, value tiers, alert rules, the incentive plan,
published benchmark figures, access, and their one TOML reader (tomlfile)."""
