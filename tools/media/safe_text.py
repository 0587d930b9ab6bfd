"""Everything a user or a model writes that ends up inside an ffmpeg filter graph or a subtitle file
passes through here: text is cleaned, colours and fonts are checked against a whitelist.

Text on screen is data: a newline, a NUL byte, an ASS override block (`{\\pos(0,0)}`) or an SRT/HTML
tag (`<font color=red>`) must never become structure in the file it is written to.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Control characters (C0, DEL, C1) and the bidirectional overrides that can reorder what is shown.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")  # {\b1}, {\pos(10,10)}, {\an8} ...
_MARKUP_TAG = re.compile(r"</?\s*(?:i|b|u|s|font|br)\b[^<>]*>", re.I)  # what SRT players render

# ffmpeg colour names (a common subset) accepted in styles; anything else must be hex.
NAMED_COLOURS = {
    "white": "FFFFFF", "black": "000000", "red": "FF0000", "green": "008000", "lime": "00FF00", "blue": "0000FF",
    "yellow": "FFFF00", "cyan": "00FFFF", "magenta": "FF00FF", "gray": "808080", "grey": "808080",
    "silver": "C0C0C0", "orange": "FFA500", "purple": "800080", "pink": "FFC0CB", "brown": "A52A2A",
    "navy": "000080", "teal": "008080", "maroon": "800000", "olive": "808000", "gold": "FFD700",
    "darkgray": "A9A9A9", "lightgray": "D3D3D3", "skyblue": "87CEEB", "coral": "FF7F50",
}
_HEX = re.compile(r"^(?:#|0x)([0-9a-f]{6})([0-9a-f]{2})?$", re.I)
_ALPHA = re.compile(r"^(0(\.\d+)?|1(\.0+)?)$")
_ASS = re.compile(r"^&H([0-9a-f]{6}|[0-9a-f]{8})&?$", re.I)

# The fonts shipped in tools/video/fonts (what the renderer can really draw with).
FONTS = ("DejaVu Sans",)


def clean_text(text: str) -> str:
    """Screen text: NFC-normalised, override blocks and markup tags removed, control characters
    (NUL, newlines, tabs, bidi overrides) gone, runs of whitespace one space."""
    text = unicodedata.normalize("NFC", str(text))
    text = _ASS_OVERRIDE.sub("", text)
    text = _MARKUP_TAG.sub("", text)
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    return " ".join(text.split())


def _non_empty_text(text: str) -> str:
    cleaned = clean_text(text)
    if not cleaned:
        raise ValueError("the text is empty once control characters and formatting tags are removed")
    return cleaned


ScreenText = Annotated[str, AfterValidator(_non_empty_text)]


def ffmpeg_colour(value: str) -> str:
    """A colour for ffmpeg filters: a name from NAMED_COLOURS or #RRGGBB[AA]/0xRRGGBB[AA], with an
    optional @alpha (0–1). Returns it normalised (lower-case name or 0xRRGGBB[AA][@alpha])."""
    text = str(value)  # not stripped: a value with whitespace or control characters is refused
    base, _, alpha = text.partition("@")
    if alpha and not _ALPHA.match(alpha):
        raise ValueError(f"colour {value!r}: the alpha after '@' must be between 0 and 1")
    suffix = f"@{alpha}" if alpha else ""
    if base.lower() in NAMED_COLOURS:
        return base.lower() + suffix
    m = _HEX.match(base)
    if m:
        return "0x" + m.group(1).upper() + (m.group(2) or "").upper() + suffix
    raise ValueError(f"colour {value!r} is not allowed: use a name ({', '.join(sorted(NAMED_COLOURS)[:8])}, ...) "
                     "or #RRGGBB, optionally with @0.5 for transparency")


Colour = Annotated[str, AfterValidator(ffmpeg_colour)]


def ass_colour(value: str) -> str:
    """A colour for an ASS style line: &HAABBGGRR as written, or a name / #RRGGBB converted."""
    text = str(value)
    m = _ASS.match(text)
    if m:
        digits = m.group(1).upper()
        return "&H" + (digits if len(digits) == 8 else "00" + digits)
    try:
        normal = ffmpeg_colour(text)
    except ValueError:
        raise ValueError(f"subtitle colour {value!r} is not allowed: use &HAABBGGRR (ASS), a name or #RRGGBB") from None
    base, _, alpha = normal.partition("@")
    rgb = NAMED_COLOURS.get(base) or base[2:8]
    transparency = round((1 - float(alpha)) * 255) if alpha else 0
    return f"&H{transparency:02X}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


AssColour = Annotated[str, AfterValidator(ass_colour)]


def font_name(value: str) -> str:
    if value not in FONTS:
        raise ValueError(f"font {value!r} is not available; choose one of {', '.join(FONTS)}")
    return value
