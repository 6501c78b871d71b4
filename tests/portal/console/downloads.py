"""A staff export as a person gets it: the 다운로드 사유 form first, then the file (portal/console/downloads.py)."""

from urllib.parse import urlencode

REASON = "월말 정산 확인"


def download(client, url: str, params: dict | None = None, *, data: dict | None = None, reason: str = REASON):
    """GET `url?params` (or POST `data` to it) — which must answer with the reason form, carrying what was posted —
    then post the form back with `reason`; returns that response (the file)."""
    query = "?" + urlencode(params, doseq=True) if params else ""
    asked = client.post(url + query, data) if data is not None else client.get(url + query)
    page = asked.content.decode()
    assert asked.status_code == 200 and 'id="download-reason-form"' in page, (asked.status_code, page[-1500:])
    return client.post(url + query, {**(data or {}), "reason": reason})
