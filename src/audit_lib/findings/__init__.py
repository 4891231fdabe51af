"""The documents an audit writes and reads back, one module per format.

`quarterly`: findings.json and evidence/<ID>.csv; `investigation`:
investigation.json; `manifest`: manifest.json; `documents`: what they share.
"""
