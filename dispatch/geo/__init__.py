"""The city's map: district boundaries (which kecamatan an incident lies in) and the
gazetteer. URLs: /api/v1/districts, /api/v1/places."""
