"""The portal's URLs plus the baseline views the benchmarks compare against."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.html import escape

from portal.catalog.models import Product
from portal.console.views import ORDER_COUNT_CAP
from portal.urls import urlpatterns as portal_urlpatterns


def plain_product(request, code):
    """The product page's template without any mileage work (no rate lookup, no exclusion, no inflow)."""
    product = get_object_or_404(Product.objects.select_related("category"), code=code, is_displayed=True)
    return render(request, "storefront/product.html", {"product": product, "excluded": False,
                                                       "base_rate_x10": None, "extra_rate_x10": 0})


@login_required
@permission_required("orders.operate_console", raise_exception=True)
def floor_orders(request):
    """The floor of the order queue's first page: the same login and permission check, the same 50 newest rows and
    the same total (counted up to the same cap), each read with one hand-written query and written out with no
    template."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, placed_at, orderer_name, collected_won, mileage_use_won, status "
                       "FROM orders_order ORDER BY placed_at DESC, id DESC LIMIT 50")
        rows = cursor.fetchall()
        cursor.execute("SELECT COUNT(*) FROM (SELECT 1 FROM orders_order LIMIT %s) AS capped", [ORDER_COUNT_CAP + 1])
        total = cursor.fetchone()[0]
    cells = "".join(f"<tr><td>{escape(n)}</td><td>{p}</td><td>{escape(o)}</td><td>{t:,}원</td><td>{m:,}원</td>"
                    f"<td>{escape(s)}</td></tr>" for n, p, o, t, m, s in rows)
    return HttpResponse(f"<!doctype html><p>{total:,}</p><table>{cells}</table>")


@login_required
@permission_required("orders.operate_console", raise_exception=True)
def floor_page(request):
    """The floor of any console page: the login and permission check and nothing else."""
    return HttpResponse("<!doctype html><p>ok</p>")


@login_required
@permission_required("orders.operate_console", raise_exception=True)
def floor_file(request, size):
    """The floor of serving a stored file: the login and permission check, then a file of `size` bytes read from the
    media folder (written by the bench beforehand) and sent as it is."""
    return HttpResponse((settings.MEDIA_ROOT / "bench-floor" / f"{size}.bin").read_bytes(),
                        content_type="application/pdf")


urlpatterns = [path("bench/plain/p/<str:code>/", plain_product), path("bench/floor/orders/", floor_orders),
               path("bench/floor/page/", floor_page), path("bench/floor/file/<int:size>/", floor_file),
               *portal_urlpatterns]
