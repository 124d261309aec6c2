"""Teams, their shifts, positions and phones' presence. URLs: /api/v1/teams/*."""
