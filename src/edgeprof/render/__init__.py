"""Every renderer of the report data (``edgeprof.report``): terminal, JSON, CSV, Markdown, HTML,
the compare and check outputs, the device catalogue and the validation table; one table writer
per format (``tables.py``) and the atomic ``-o`` writes (``output.py``)."""
