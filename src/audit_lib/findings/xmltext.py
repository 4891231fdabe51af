"""Text from the data made safe for XML 1.0 files (findings.xlsx, JUnit).

XML 1.0 cannot hold most control characters (an ESC byte in a party name),
lone surrogates or U+FFFE/U+FFFF; a writer either fails on them or writes a
file readers refuse. They are replaced visibly by U+FFFD, as report.html
shows them.
"""

from __future__ import annotations

import re

#: Everything outside XML 1.0's Char production:
#: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"


def xml_text(value: object) -> str:
    """`value` as text XML 1.0 can hold: every character it cannot shown as U+FFFD.

    >>> xml_text("Ad\\x1bTech\\x00 Ltd")
    'Ad\\ufffdTech\\ufffd Ltd'
    >>> xml_text(None), xml_text(7)
    ('', '7')
    """
    if value is None:
        return ""
    return NOT_XML.sub(REPLACEMENT, str(value))
