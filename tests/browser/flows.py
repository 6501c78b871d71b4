"""Steps the browser tests share: what a guest buyer does before 결제하기."""

# the demo logins (portal.demo): a test that logs someone in uses these
LOGINS = {"hong": "hong1234!", "operator": "operator1234!", "editor": "editor1234!", "privacy": "privacy1234!"}


def log_in(page, shop_url: str, username: str, next_path: str = "/") -> None:
    """The portal's login screen, as a person types it, then on to `next_path`."""
    page.goto(f"{shop_url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", LOGINS[username])
    page.click("#login-submit")



def order_form_with_mileage(page, shop_url: str, buyer: str, use: str) -> None:
    """샘플상품 1 bought at once, the order form filled in as a guest's, and `use` won of the provider buyer
    `buyer`'s mileage chosen in the 적립/사용 popup (the popup closes and hands the choice back)."""
    page.goto(f"{shop_url}/shop/p/1/")
    page.click("#buy-now")
    page.fill("#id_orderer_name", "홍길동")
    page.fill("#id_orderer_phone", "010-1234-5678")
    page.fill("#id_address", "서울 동작구 신대방2동")
    page.fill("#id_guest_password", "abcd1234")
    page.check("#id_privacy_agreed")
    mileage_chosen(page, buyer, use)


def mileage_chosen(page, buyer: str, use: str, *, by_enter: bool = False) -> None:
    """적립/사용 on the order form: the provider buyer `buyer` logs in to the popup and chooses `use` won (pressing
    확인, or Enter in the amount with `by_enter`); the popup closes and hands the choice back."""
    with page.expect_popup() as popup_info:
        # the manual's "적립/사용" 버튼, found as the button it is named (a link that opens the popup without scripts)
        page.get_by_role("button", name="적립/사용").click()
    popup = popup_info.value
    popup.fill("input[name=login_id]", buyer)
    popup.fill("input[name=password]", "demo1234!")
    popup.click("text=로그인")
    popup.fill("#use", use)
    with popup.expect_event("close"):
        if by_enter:
            popup.press("#use", "Enter")
        else:
            popup.click("#confirm")
