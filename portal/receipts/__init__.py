"""PDF receipts and statements (WeasyPrint) with the shop's OFL Korean font, so output is the same everywhere."""
