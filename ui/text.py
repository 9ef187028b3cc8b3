"""Text from data or links shown as text: Streamlit renders Markdown in most elements.

A cohort name, centre or link value could hold a Markdown link or image; escaping
every Markdown punctuation character shows it literally instead.
"""

from __future__ import annotations

import re

# Markdown's punctuation that can format, link, embed or open HTML; quotes and "=" cannot.
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def plain(text: str) -> str:
    """``text`` with every Markdown-significant character escaped."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
