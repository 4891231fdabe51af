"""Whole runs: papermill execution of the notebooks, the quarterly audit, the investigation."""
