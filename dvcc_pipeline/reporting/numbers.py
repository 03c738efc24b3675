"""Dutch number formatting (nl_NL: 2.060, 2.176,9, 12,5%, € 1.234) for every part of a report.

Formatted by hand, not through the system locale: a server's locale must not change a report.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def getal(value: int | Decimal | float, decimalen: int = 0) -> str:
    """A number with a dot between thousands and a comma before the decimals."""
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimalen), rounding=ROUND_HALF_UP)
    text = f"{abs(exact):,.{decimalen}f}"  # 2,176.9
    text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"-{text}" if exact < 0 else text


def bedrag(value: int | Decimal | float) -> str:
    """Euros, rounded to whole euros."""
    return f"€ {getal(value)}"


def procent(value: int | Decimal | float, teken: bool = False) -> str:
    """A percentage with one decimal; `teken` puts + before a rise."""
    text = getal(value, 1)
    if teken and Decimal(str(value)) > 0:
        text = f"+{text}"
    return f"{text}%"


def getal_of_decimaal(value: Decimal) -> str:
    """A whole number as such, otherwise with one decimal."""
    return getal(value) if value == value.to_integral() else getal(value, 1)
