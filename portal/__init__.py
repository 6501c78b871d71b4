"""The merchant portal: the shop (catalog, orders, members), its storefront and its operator console."""
