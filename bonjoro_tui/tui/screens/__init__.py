"""One module per screen: status (home), login wizard, API explorer, help."""
