"""Text from data or links shown as text: Streamlit renders Markdown in most elements.

A cohort name, centre or link value could hold a Markdown link or image, HTML, a
``:color[...]`` directive or ``$`` math. Escaping every ASCII punctuation character
(CommonMark lets a backslash escape each) shows all of that literally. Escapes are not
enough on their own: after parsing, Streamlit's GFM step turns any ``https://...``,
``www.`` or ``name@host.org`` left in the text into a working link, and its shortcode
steps turn ``:material/...:`` and ``:smile:`` into icons. An invisible WORD JOINER
(U+2060) after each ``:``, after ``www`` and before ``@`` breaks those patterns without
changing what a reader sees. Control characters go first, line breaks becoming spaces,
so no data starts a block (analytics.present.format.data_text).
"""

from __future__ import annotations

import re

from analytics.present.format import data_text

ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
WORD_JOINER = "\u2060"
# Where GFM autolinks and shortcodes start: after a colon or "www", before an at sign.
PATTERN_START = re.compile(r"(?<=:)|(?i:(?<=www)(?=\.))|(?=@)")


def plain(text: object) -> str:
    """Markdown that Streamlit shows as exactly ``text``: no link, image, HTML or format."""
    joined = PATTERN_START.sub(WORD_JOINER, data_text(text))
    return ASCII_PUNCTUATION.sub(r"\\\1", joined)
