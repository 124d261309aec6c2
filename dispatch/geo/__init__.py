"""The city's map: district boundaries (which kecamatan an incident lies in) and the
gazetteer, and the road network of the loaded graph (roads.py). URLs: /api/v1/districts,
/api/v1/places, /api/v1/roads."""
