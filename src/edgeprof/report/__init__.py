"""The typed report (model.py) and its renderers."""
