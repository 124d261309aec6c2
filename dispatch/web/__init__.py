"""The web pages: operators' dashboard, the team's mobile view, the reports page."""
