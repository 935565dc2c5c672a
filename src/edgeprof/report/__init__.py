"""The report data: the Profile tree and its parts, the compare and check results, and one serialiser (serial.py). No renderer and no analysis lives here."""
