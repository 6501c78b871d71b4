"""The portal's URLs plus the baseline views the benchmarks compare against."""

from django.shortcuts import get_object_or_404, render
from django.urls import path

from portal.catalog.models import Product
from portal.urls import urlpatterns as portal_urlpatterns


def plain_product(request, code):
    """The product page's template without any mileage work (no rate lookup, no exclusion, no inflow)."""
    product = get_object_or_404(Product.objects.select_related("category"), code=code, is_displayed=True)
    return render(request, "storefront/product.html", {"product": product, "excluded": False,
                                                       "base_rate_x10": None, "extra_rate_x10": 0})


urlpatterns = [path("bench/plain/p/<str:code>/", plain_product), *portal_urlpatterns]
