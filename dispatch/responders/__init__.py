"""What a team's phone does: its assignment, status steps, GPS fixes. URLs:
/api/v1/team/* (and the same steps over /ws)."""
