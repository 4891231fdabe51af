"""privacy-audit: audit a personal-data inventory against its privacy policy."""

import sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat and altair) loads rfc3987_syntax when it is installed
# (JupyterLab brings it) only to check the "iri" string format, which none of our schemas
# use; compiling its grammar costs seconds in every process and kernel. Skip it.
sys.modules.setdefault("rfc3987_syntax", None)
