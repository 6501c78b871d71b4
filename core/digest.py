"""One short digest of what a page showed (a confirmation's refund, an exchange's quote, the order form's amounts, a
receipt's contents): the page sends it back, or a cache is named by it, and a changed value is noticed."""

import hashlib


def digest(*terms) -> str:
    """16 hex characters of SHA-256 over the terms' repr (ints, strings, tuples, lists, None, dates as text)."""
    return hashlib.sha256(repr(terms).encode()).hexdigest()[:16]
