"""Event handlers (Chalice blueprints) for what the platform reacts to: the ballots stream."""
