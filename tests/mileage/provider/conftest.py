from tests.portal.storefront.conftest import shop  # noqa: F401  (the demo shop pointed at the sandbox)
