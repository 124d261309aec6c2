"""Calls on the 112 lines as the gateway or the operator records them. URLs:
/api/v1/calls/*."""
