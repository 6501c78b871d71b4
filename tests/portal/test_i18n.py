"""Every message a person reads goes through gettext with the Korean text as msgid and its English in locale/en.

No "한국어 (English)" literal may come back in the portal's own code; the language switch shows one language.
"""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from mileage.policy import PolicyError, validate_mileage_return, validate_use
from portal.orders.checkout import CheckoutError, parse_quantity, quote

ROOT = Path(__file__).resolve().parents[2]
HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"
# Korean, then a parenthesised English sentence: "… 주세요. (Enter the …)" or, with a value first, "({label} must …)".
BILINGUAL = re.compile(rf"[{HANGUL}][^\n]*\((?:[A-Z][a-z]+|\{{\}}\s*:?\s*[a-z]+)\b[^)]*\)", re.S)


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request through the language switch leaves English active in this thread: later tests expect Korean."""
    yield
    translation.deactivate()


def _python_files():
    # provider_sandbox/ is not walked: it is the provider (its wire answers imitate the provider's).
    for top in ("portal", "mileage", "cms_pages"):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue  # migrations are history
            yield relative, path


def _strings(tree):
    """Every string literal (adjacent literals joined, f-strings with {} for their values), docstrings excepted."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    inside_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and id(node) not in inside_fstrings:
                yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def bilingual_literals(files):
    found = []
    for relative, path in files:
        for line, text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if BILINGUAL.search(text):
                found.append(f"{relative}:{line}: {text!r}")
    return found


def test_the_detector_catches_the_old_forms(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'A = "장바구니가 비어 있습니다. (The cart is empty.)"\n'
        'B = ("적립금은 결제금액까지만 사용할 수 있습니다. "\n     "(Store points are limited.)")\n'
        'C = f"{label}은(는) 숫자로 입력해 주세요. ({label} must be a number.)"\n'
        'D = f"사용 가능한 적립금은 {n:,}원입니다. " f"(You have {n:,} won.)"\n'
        'E = _("요청에 사용할 수 없는 문자(NUL)가 있습니다.")\n'
        'F = _("운송장번호를 입력해 주세요 (영문/숫자).")\n',
        encoding="utf-8")
    found = bilingual_literals([("sample.py", sample)])
    assert [entry.split(":")[1] for entry in found] == ["1", "2", "4", "5"]


def test_no_korean_english_literal_in_the_portal():
    offenders = bilingual_literals(_python_files())
    assert offenders == [], "use gettext with the Korean msgid and put the English in locale/en:\n" + "\n".join(offenders)


def test_policy_errors_show_one_language():
    with pytest.raises(PolicyError) as caught:
        validate_use(100, balance_won=10_000, max_use_won=10_000)
    assert str(caught.value) == "네이버 마일리지는 500원부터 사용할 수 있습니다."
    assert caught.value.message_ko == "네이버 마일리지는 500원부터 사용할 수 있습니다."  # the pure design is kept
    with translation.override("en"):
        assert str(caught.value) == "Naver Mileage can be used from 500 won."
    with pytest.raises(PolicyError) as caught, translation.override("en"):
        validate_mileage_return(2_000, used_won=1_500, already_returned_won=0)
    with translation.override("en"):
        assert caught.value.message == "At most 1,500 won of Naver Mileage can be returned."
    with translation.override("ko"):
        assert caught.value.message == "네이버 마일리지 반환액은 최대 1,500원까지 가능합니다."


def test_checkout_errors_follow_the_active_language(db):
    with pytest.raises(CheckoutError) as caught, translation.override("en"):
        quote([])
    assert caught.value.message == "The cart is empty."
    with pytest.raises(CheckoutError) as caught, translation.override("en"):
        parse_quantity("100")
    assert caught.value.message == "Quantity must be 1 to 99."
    with pytest.raises(CheckoutError) as caught:
        parse_quantity("100")
    assert caught.value.message == "수량은 1개에서 99개까지 주문할 수 있습니다."


@pytest.mark.django_db
def test_the_language_switch_shows_messages_in_english(client):
    # Korean by default
    lookup = client.post("/shop/guest/", {"number": "20250101-0000001", "password": "wrong123"})
    assert lookup.status_code == 400
    assert "주문번호 또는 비밀번호가 올바르지 않습니다." in lookup.content.decode()
    empty = client.get("/shop/order/", follow=True)
    assert "장바구니가 비어 있습니다." in empty.content.decode()

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/shop/"})
    assert switched.status_code == 302

    lookup = client.post("/shop/guest/", {"number": "20250101-0000001", "password": "wrong123"})
    page = lookup.content.decode()
    assert lookup.status_code == 400
    assert "The order number or password is not correct." in page and "주문번호 또는 비밀번호가" not in page
    empty = client.get("/shop/order/", follow=True).content.decode()
    assert "The cart is empty." in empty and "장바구니가 비어 있습니다." not in empty


def test_every_message_has_its_english(tmp_path):
    """makemessages over a copy of the code finds no message without its English (nor a fuzzy one): a new gettext
    string, template or Python, fails here until locale/en has it."""
    import os
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "tree"
    for name in ("portal", "mileage", "cms_pages", "core", "templates", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    # the shop's own settings (manage.py's), not the tests' (whose test-only app is not in the copy)
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "-v0"], cwd=copy,
                   check=True, env={**env, "PYTHONPATH": str(copy)})
    po = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    missing = subprocess.run(["msgattrib", "--untranslated", "--no-wrap", str(po)], capture_output=True, text=True,
                             check=True).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-wrap", str(po)], capture_output=True, text=True,
                           check=True).stdout
    untranslated = [line for line in missing.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
    assert untranslated == [] and "msgid" not in fuzzy.replace('msgid ""', ""), (untranslated, fuzzy[:2000])


def test_every_status_change_note_reads_in_english():
    # 처리상태 변경 이력 shows each stored note through gettext: an English console reads none of them in Korean
    from portal.orders.models import STATUS_CHANGE_NOTES

    with translation.override("en"):
        untranslated = [note for note in STATUS_CHANGE_NOTES if re.search(f"[{HANGUL}]", translation.gettext(note))]
    assert untranslated == []


def test_every_note_a_service_writes_on_a_status_change_is_listed():
    # a note written as a literal (note="…") by any service is one of STATUS_CHANGE_NOTES, so it reaches the .po
    from portal.orders.models import STATUS_CHANGE_NOTES

    written = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and any(getattr(node.func, attr, "") in ("order_set_status",)
                                                  for attr in ("id", "attr")):
                for keyword in node.keywords:
                    if keyword.arg == "note" and isinstance(keyword.value, ast.Constant):
                        written.add(keyword.value.value)
            # a note chosen before it is written (note = "…" if … else "…")
            if (isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["note"]):
                values = [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) else [node.value]
                written.update(v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            # a note written where an order is not placed (_not_placed), an f-string's words before its reference
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_not_placed"):
                for keyword in node.keywords:
                    if keyword.arg == "note" and isinstance(keyword.value, ast.JoinedStr):
                        written.add(keyword.value.values[0].value.rstrip(" ["))
    assert {"네이버 마일리지 승인거절", "결제창 미완료"} <= written <= set(STATUS_CHANGE_NOTES), written - set(STATUS_CHANGE_NOTES)


def test_every_note_a_gateway_gives_an_approved_payment_is_listed():
    # a gateway's approved result (GatewayResult(True, tid, "…")) becomes the order's status note: its words are one
    # of STATUS_CHANGE_NOTES (an f-string's words before its reference), so an English console reads them in English
    from portal.orders.models import STATUS_CHANGE_NOTES

    written = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("GatewayResult", "VirtualAccount")
                    and len(node.args) == 3 and isinstance(node.args[0], ast.Constant) and node.args[0].value is True):
                note = node.args[2]
                if isinstance(note, ast.JoinedStr):
                    note = note.values[0]
                    written.add(note.value.strip())
                elif isinstance(note, ast.Constant):
                    written.add(note.value)
    assert {"PortOne 승인", "TEST-PG 가상계좌 발급"} <= written <= set(STATUS_CHANGE_NOTES), written - set(STATUS_CHANGE_NOTES)


def test_a_note_with_a_reference_reads_in_english_with_its_reference_kept():
    from portal.orders.templatetags.status_notes import status_note

    with translation.override("en"):
        english = status_note("PortOne 승인 pg-20261207-1")
        assert english.endswith(" pg-20261207-1") and not re.search(f"[{HANGUL}]", english)
        assert status_note("CJ대한통운 6541111") == "CJ Logistics 6541111"  # 배송: the carrier and its invoice
        assert status_note("가나다 6541111") == "가나다 6541111"  # words the portal does not know stay as stored
        assert status_note("") == ""
    with translation.override("ko"):
        assert status_note("PortOne 승인 pg-20261207-1") == "PortOne 승인 pg-20261207-1"
