"""The demo shop a newcomer sees on the first `make run`: users, pages and products (shop), the merchant's
details and product pictures (merchant), and orders in every state placed through the real services (orders)."""
