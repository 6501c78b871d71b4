"""What every part of the project shares and that belongs to none of them: append-only rows, log redaction.
It imports nothing of `portal`, `cms_pages` or `mileage` (pyproject's import-linter contracts)."""
