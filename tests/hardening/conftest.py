from tests.portal.console.conftest import operator, place  # noqa: F401
from tests.portal.storefront.conftest import shop  # noqa: F401
