"""The block list of numbers (pranks, abuse), managed by admins, looked up by the
gateway. URLs: /api/v1/blocklist/*."""
