"""privacy-audit: audit a personal-data inventory against its privacy policy."""

__version__ = "0.1.0"
