"""The health office's response-time reports: intervals, fractiles, exports, the
/reports page's data. URLs: /api/v1/reports/*. Definitions: docs/reports.md."""
