"""The provider's settlement report (docs/protocol.md §4) is per txId: a re-approved order has a line per txId, and
the portal's statement (per order) is compared with their sum; a report whose list is named `items`, or holds one
line, reads alike."""

from mileage.services.settlement import Statement, StatementLine, reconcile, report_lines


def statement(*lines):
    return Statement(month="2026-12", lines=[StatementLine(order_number=n, earned=e, used=u) for n, e, u in lines])


def test_a_re_approved_orders_lines_are_summed_before_they_are_compared():
    ours = statement(("20261206-0000003", 290, 1_000))
    report = {"lines": [{"orderNo": "20261206-0000003", "txId": "T1", "earned": "430", "used": "2000"},
                        {"orderNo": "20261206-0000003", "txId": "T2", "earned": "-140", "used": "-1000"}]}
    assert reconcile(ours, report) == []
    report["lines"][1]["earned"] = "-150"
    [mismatch] = reconcile(ours, report)
    assert (mismatch.problem, mismatch.portal, mismatch.provider) == ("different", (290, 1_000), (280, 1_000))


def test_the_reports_list_under_items_or_one_line_alone_reads_the_same():
    line = {"orderNo": "A", "earned": "45", "used": "500"}
    assert report_lines({"items": [line]}) == [line]
    assert report_lines({"lines": line}) == [line]
    assert report_lines({"lines": {"line": [line, line]}}) == [line, line]
    assert report_lines({"items": []}) == []
    assert reconcile(statement(("A", 45, 500)), {"items": [line]}) == []


def test_a_report_naming_its_list_otherwise_is_read_from_the_field_that_holds_lines():
    # §4 says "per txId/orderNo" and names no list: a provider may call it anything
    line = {"orderNo": "A", "txId": "T1", "earned": "45", "used": "500", "cancelled": "0"}
    report = {"month": "2026-12", "merchant": "1TWXDZ", "totals": {"earned": "45", "used": "500", "net": "-455"},
              "transactions": [line]}
    assert report_lines(report) == [line]
    assert report_lines({"month": "2026-12", "orders": {"order": line}}) == [line]
    assert reconcile(statement(("A", 45, 500)), report) == []
    # an answer with no field holding lines is no list at all (the screen says it cannot read it)
    assert report_lines({"month": "2026-12", "totals": {"earned": "45", "used": "500"}}) is None
    assert report_lines({}) is None


def test_an_order_netting_to_nothing_on_one_side_and_absent_on_the_other_is_no_mismatch():
    # an approval applied late and aborted: the provider lists the order with 0 earned and 0 used, the portal has
    # no line of it
    report = {"lines": [{"orderNo": "A", "txId": "T1", "earned": "0", "used": "0", "cancelled": "500"}]}
    assert reconcile(Statement(month="2026-12", lines=[]), report) == []


def test_a_report_without_lines_is_a_month_without_any_only_when_no_figure_says_otherwise():
    from portal.console.mileage_views import report_readable

    assert report_readable({"month": "202612", "merchant": "1TWXDZ", "totals": {"earned": "0", "used": "0"}})
    assert report_readable({"resultCode": "1000", "month": "2026-12"})
    # totals nested or flat, under any name: figures the lines would have to explain
    assert not report_readable({"month": "2026-12", "totals": {"earned": "135", "used": "1500"}})
    assert not report_readable({"month": "2026-12", "totalEarned": "135", "totalUsed": "1500", "net": "-1365"})
    assert report_readable({"transactions": [{"orderNo": "A", "earned": "45", "used": "500"}]})
    assert not report_readable({"transactions": [{"orderNo": "A", "earned": "abc", "used": "500"}]})


def test_a_report_stating_earn_and_use_before_their_cancellations_reconciles_when_the_cancelled_adds_up():
    # §4 lists earned, used and cancelled and does not say whether earned and used are net: a provider may report
    # them before the cancellations, with the cancellations apart. The portal's order: 1,000원 used and 290원
    # earned, then a partial return gave 400원 of use and 116원 of earn back: net 174 earned, 600 used.
    ours = Statement(month="2026-12", lines=[StatementLine(order_number="B", earned=174, used=600, earn_cancelled=116,
                                                           use_cancelled=400)])
    gross = {"transactions": [{"orderNo": "B", "txId": "T1", "earned": "290", "used": "1000", "cancelled": "516"}]}
    assert reconcile(ours, gross) == []
    # the same order reported after its cancellations reconciles too
    assert reconcile(ours, {"lines": [{"orderNo": "B", "earned": "174", "used": "600", "cancelled": "516"}]}) == []
    # an approval undone, reported before its cancel: 500 used, 500 cancelled, nothing at the portal
    assert reconcile(Statement(month="2026-12", lines=[]),
                     {"lines": [{"orderNo": "A", "earned": "0", "used": "500", "cancelled": "500"}]}) == []
    # a provider whose `cancelled` is the use given back alone (its earn's reversals kept apart, or earn net)
    assert reconcile(ours, {"lines": [{"orderNo": "B", "earned": "290", "used": "1000", "cancelled": "400"}]}) == []
    assert reconcile(ours, {"lines": [{"orderNo": "B", "earned": "174", "used": "1000", "cancelled": "400"}]}) == []
    # a cancelled amount that is not the portal's is a mismatch, with the report's figures
    gross["transactions"][0]["cancelled"] = "500"
    [mismatch] = reconcile(ours, gross)
    assert (mismatch.problem, mismatch.portal, mismatch.provider) == ("different", (174, 600), (290, 1_000))
    # and a shortfall is never explained by a cancellation: the portal gave back 1,000 of 1,000 used (500 + 500),
    # the provider still holds 500 of it
    given_back = Statement(month="2026-12", lines=[StatementLine(order_number="C", earned=0, used=0,
                                                                 use_cancelled=1_000)])
    [mismatch] = reconcile(given_back, {"lines": [{"orderNo": "C", "earned": "0", "used": "500", "cancelled": "500"}]})
    assert (mismatch.problem, mismatch.provider) == ("different", (0, 500))


def test_an_order_ended_at_nothing_on_both_sides_reconciles_whatever_earn_the_provider_reversed():
    # an unpaid transfer cancelled before its deposit: the portal booked the use and gave it back, and never booked
    # its earn (E7); a provider reporting before its cancellations reverses the approval's earn beside the use
    ours = Statement(month="2026-12", lines=[StatementLine(order_number="D", earned=0, used=0, use_cancelled=1_000)])
    assert reconcile(ours, {"lines": [{"orderNo": "D", "earned": "140", "used": "1000", "cancelled": "1140"}]}) == []
    # an order whose earn the portal did book (a card order, 45원) is held to it: 140 is not its earn
    card = Statement(month="2026-12", lines=[StatementLine(order_number="E", earned=0, used=0, earn_cancelled=45,
                                                           use_cancelled=1_000)])
    [mismatch] = reconcile(card, {"lines": [{"orderNo": "E", "earned": "140", "used": "1000", "cancelled": "1140"}]})
    assert mismatch.problem == "different"
    # but a provider still holding part of it is a mismatch
    [mismatch] = reconcile(ours, {"lines": [{"orderNo": "D", "earned": "140", "used": "1000", "cancelled": "1000"}]})
    assert mismatch.problem == "different"


def test_a_txid_replaced_by_a_re_approval_and_reported_whole_with_its_whole_cancellation_nets_to_nothing():
    # a provider listing each txId gross: the order's first txId (1,000 used, 340 earned) replaced by a re-approval,
    # all of it under `cancelled`, beside the txId that stands (40 earned, 1,000 used): the portal's 40 / 1,000
    ours = statement(("20261208-0000008", 40, 1_000))
    report = {"lines": [{"orderNo": "20261208-0000008", "txId": "T1", "earned": "340", "used": "1000",
                         "cancelled": "1340"},
                        {"orderNo": "20261208-0000008", "txId": "T2", "earned": "40", "used": "1000", "cancelled": "0"}]}
    assert reconcile(ours, report) == []
    # the txId that stands is still held to the portal's figures
    report["lines"][1]["earned"] = "45"
    [mismatch] = reconcile(ours, report)
    assert (mismatch.problem, mismatch.portal, mismatch.provider) == ("different", (40, 1_000), (385, 2_000))


def test_an_xml_report_of_repeated_lines_keeps_every_line_and_a_line_may_leave_out_a_zero():
    import xml.etree.ElementTree as ET

    from mileage.provider.client import _xml_fields
    from portal.console.mileage_views import report_readable

    answer = ET.fromstring("<response><resultCode>1000</resultCode><lines>"
                           "<line><orderNo>A</orderNo><earned>45</earned><used>500</used></line>"
                           "<line><orderNo>B</orderNo><used>700</used></line></lines></response>")
    report = _xml_fields(list(answer))
    assert [line["orderNo"] for line in report_lines(report)] == ["A", "B"]
    assert report_readable(report)
    assert reconcile(statement(("A", 45, 500), ("B", 0, 700)), report) == []
    # lines straight under the answer, repeated, read alike
    bare = ET.fromstring("<response><line><orderNo>A</orderNo><earned>45</earned><used>500</used></line>"
                         "<line><orderNo>B</orderNo><earned>0</earned><used>700</used></line></response>")
    assert [line["orderNo"] for line in report_lines(_xml_fields(list(bare)))] == ["A", "B"]
    # a line stating none of its figures says nothing
    assert not report_readable({"lines": [{"orderNo": "A", "txId": "T1"}]})


def test_a_re_approved_order_cancelled_in_the_end_reported_gross_per_txid_reconciles():
    # a partial return replaced the first txId (listed whole, cancelled whole), then the rest was cancelled (the
    # second txId listed whole, cancelled whole): nothing stands on either side
    ours = Statement(month="2026-12", lines=[StatementLine(order_number="F", earned=0, used=0, earn_cancelled=299,
                                                           use_cancelled=2_000)])
    report = {"lines": [{"orderNo": "F", "txId": "T1", "earned": "299", "used": "2000", "cancelled": "2299"},
                        {"orderNo": "F", "txId": "T2", "earned": "184", "used": "2000", "cancelled": "2184"}]}
    assert reconcile(ours, report) == []
    # a portal still holding part of it is a mismatch
    holding = statement(("F", 0, 500))
    [mismatch] = reconcile(holding, report)
    assert mismatch.problem == "different"
