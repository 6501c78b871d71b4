"""The provider sandbox ("Naver"): a separate Django project with its own settings, models, database and
process, speaking the provider wire protocol (docs/protocol.md) so the portal can be tested end to end."""
