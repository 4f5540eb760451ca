"""The hosted pages in a real browser: headless Chromium (Playwright's sync API) on the local stack.

A client books a free service by clicking through `/book/demo`, opens the manage link from
the confirmation mail, reschedules and cancels; one booking on a 360 px wide screen, one
with the keyboard only, one deposit paid through the fake Stripe Checkout. axe-core checks
each page of ours for serious or critical violations; screenshots are kept as artefacts.

Nothing is skipped: without Chromium (/usr/bin/chromium) or axe-core
(`.cache/node/node_modules/axe-core`, installed by `make test`) these tests fail.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect, sync_playwright

from tests.conftest import PROJECT_DIR
from tests.stack_process import FreeShop, StackProcess, start_stack, stop_stack, wait_ready

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = PROJECT_DIR / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 30_000
MANAGE_LINK = re.compile(r"https?://[^\s\"'<>]+/manage/[^\s\"'<>]+")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    process = start_stack(tmp_path_factory.mktemp("browser-stack"))
    try:
        wait_ready(process, timeout=90)
        yield process
    finally:
        stop_stack(process, timeout=15)


@pytest.fixture(scope="module")
def shop(stack: StackProcess) -> FreeShop:
    return FreeShop.open(stack.demo(), name="Browser")


@pytest.fixture(scope="module")
def deposit_service(stack: StackProcess, shop: FreeShop) -> str:
    """A paid service with a deposit, offered by the free shop's provider (open around the clock)."""
    admin = {"Authorization": f"Bearer {shop.secret_key}"}
    created = requests.post(
        f"{shop.api_url}/v1/admin/services",
        json={"name": "Browser Deposit", "durationMinutes": 30, "priceCents": 4000, "depositCents": 1000},
        headers=admin,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    service_id = str(created.json()["id"])
    offered = requests.patch(
        f"{shop.api_url}/v1/admin/providers/{shop.provider_id}",
        json={"serviceIds": [shop.short_id, shop.long_id, service_id]},
        headers=admin,
        timeout=30,
    )
    assert offered.status_code == 200, offered.text
    return service_id


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser-screenshots")
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: apt-get install chromium (CI does)"
    assert AXE.is_file(), f"{AXE} is missing: `make axe` installs it (make test does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Audit:
    """axe-core on a copy of each page: the same URL and HTML, in a context that bypasses the
    page's CSP (which rightly refuses an injected script). The page itself keeps its CSP."""

    def __init__(self, browser: Browser, artefacts: Path, zone: str) -> None:
        self._browser = browser
        self.artefacts = artefacts
        self._zone = zone
        self.checked: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.artefacts / f"{name}.png"), full_page=True)
        self._check(page, page.content(), page.url, name)

    def frame(self, page: Page, frame: Frame, name: str) -> None:
        """The page inside an iframe (the embed), checked on its own as a top-level copy."""
        page.screenshot(path=str(self.artefacts / f"{name}.png"), full_page=True)
        self._check(page, frame.content(), frame.url, name)

    def _check(self, page: Page, html: str, url: str, name: str) -> None:
        context = self._browser.new_context(
            bypass_csp=True,
            timezone_id=self._zone,
            storage_state=page.context.storage_state(),
            viewport=page.viewport_size,
        )
        try:
            copy = context.new_page()
            copy.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
            copy.goto(url, timeout=TIMEOUT_MS)
            copy.add_script_tag(path=str(AXE))
            result: dict[str, Any] = copy.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        finally:
            context.close()
        assert result["passes"], f"axe checked nothing on {name}"
        minor = sorted({f"{v['id']} ({v['impact']})" for v in result["violations"]})
        if minor:
            print(f"axe on {name}: {minor}")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"axe on {name} ({url}):\n" + "\n".join(bad)
        self.checked.append(name)


@pytest.fixture(scope="module")
def audit(browser: Browser, artefacts: Path, shop: FreeShop) -> Audit:
    return Audit(browser, artefacts, shop.zone)


def _context(browser: Browser, shop: FreeShop, **options: Any) -> BrowserContext:
    context = browser.new_context(timezone_id=shop.zone, locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _day(shop: FreeShop, ahead: int) -> date:
    return datetime.now(ZoneInfo(shop.zone)).date() + timedelta(days=ahead)


def _heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def _mail_link(stack: StackProcess, address: str, subject: str, link: re.Pattern[str], deadline: float = 60.0) -> str:
    """The first `link` in the mail to `address` whose subject holds `subject` (its plain-text
    part), once the stack has written it to the outbox."""
    began = time.monotonic()
    while time.monotonic() - began < deadline:
        for path in sorted(stack.outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address not in str(message["To"]) or subject not in str(message["Subject"]):
                continue
            part = message.get_body(preferencelist=("plain", "html"))
            assert part is not None, f"{path.name} has no body"
            found = link.search(part.get_content())
            assert found, f"no {link.pattern} in {path.name}"
            return found.group(0).replace("&amp;", "&")
        time.sleep(0.2)
    raise AssertionError(f"no '{subject}' mail to {address} in {stack.outbox} within {deadline:.0f} s")


def _confirmation_link(stack: StackProcess, address: str) -> str:
    """The manage URL in the booking's confirmation mail."""
    return _mail_link(stack, address, "Confirmed", MANAGE_LINK)


def _book_by_clicks(page: Page, audit: Audit, shop: FreeShop, day: date, address: str, prefix: str) -> None:
    page.goto(f"{shop.api_url}/book/demo")
    expect(_heading(page)).to_contain_text("Book with")
    audit(page, f"{prefix}-1-services")
    page.get_by_label(re.compile(r"^Browser 30 ")).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=2).first).to_have_text("Browser 30")
    page.get_by_label("With").select_option(label="Browser Provider")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_role("button", name="Show times").click()
    expect(page.get_by_role("heading", name=f"Times on {day.isoformat()}")).to_be_visible()
    times = page.locator("ul.times button")
    expect(times.first).to_be_visible()
    audit(page, f"{prefix}-2-times")
    times.nth(2).click()
    page.get_by_label("Name").fill("Bea Browser")
    page.get_by_label("Email").fill(address)
    audit(page, f"{prefix}-3-details")
    page.get_by_role("button", name="Book").click()
    expect(_heading(page)).to_contain_text("Confirmed")
    audit(page, f"{prefix}-4-confirmed")


def test_book_then_reschedule_and_cancel_from_the_mail_link(
    browser: Browser, stack: StackProcess, shop: FreeShop, audit: Audit
) -> None:
    # GIVEN a client who books a free service by clicking through the booking page
    address = f"click-{int(time.time())}@example.test"
    day = _day(shop, 1)
    booking = _context(browser, shop)
    try:
        _book_by_clicks(booking.new_page(), audit, shop, day, address, "click")
    finally:
        booking.close()

    # WHEN she opens the manage link from the confirmation mail in another browser
    link = _confirmation_link(stack, address)
    assert "token=" in link
    context = _context(browser, shop)
    try:
        page = context.new_page()
        page.goto(link)

        # THEN the token was exchanged for a cookie and left the address bar
        expect(_heading(page)).to_contain_text("Confirmed")
        assert "token=" not in page.url and re.search(r"/manage/[^/?]+$", page.url), page.url
        when = page.locator("main p", has_text="with Demo Studio")
        before = when.inner_text()
        audit(page, "manage-1-view")

        # WHEN she reschedules to another time that day
        page.get_by_label("New date").fill(day.isoformat())
        page.get_by_role("button", name="Show times").click()
        moves = page.locator("ul.times button")
        expect(moves.first).to_be_visible()
        audit(page, "manage-2-times")
        moves.nth(5).click()

        # THEN the page says it moved, still confirmed, at a new time
        expect(page.get_by_role("status")).to_have_text("Your appointment was moved.")
        expect(_heading(page)).to_contain_text("Confirmed")
        assert when.inner_text() != before
        audit(page, "manage-3-rescheduled")

        # WHEN she cancels: the preview shows the refund, then the cancelled state
        page.get_by_role("link", name="Cancel this appointment").click()
        expect(_heading(page)).to_contain_text("Cancel Browser 30?")
        expect(page.locator("main")).to_contain_text("If you cancel now, you get back")
        expect(page.locator("main strong")).to_contain_text("0.00")
        audit(page, "manage-4-cancel-preview")
        page.get_by_label("Reason (optional)").fill("Plans changed")
        page.get_by_role("button", name="Cancel appointment").click()
        expect(_heading(page)).to_have_text("Cancelled")
        expect(page.locator("main")).to_contain_text("is cancelled.")
        expect(page.locator("main")).to_contain_text("Refund:")
        audit(page, "manage-5-cancelled")
    finally:
        context.close()


def test_a_visitor_starting_at_the_booking_page_sees_times_in_her_own_timezone(
    browser: Browser, shop: FreeShop, audit: Audit
) -> None:
    # GIVEN a visitor whose browser is in another zone than the business
    visitor_zone = "Asia/Tokyo" if shop.zone != "Asia/Tokyo" else "America/New_York"
    context = browser.new_context(timezone_id=visitor_zone, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        # WHEN she opens the plain booking address and picks a service
        page.goto(f"{shop.api_url}/book/demo")
        page.get_by_label(re.compile(r"^Browser 30 ")).check()
        page.get_by_role("button", name="Next").click()

        # THEN the page detected her zone: it is selected and every time names it
        expect(page.get_by_label("Your timezone")).to_have_value(visitor_zone)
        assert f"tz={visitor_zone.replace('/', '%2F')}" in page.url, page.url
        page.get_by_label("Date").fill(_day(shop, 1).isoformat())
        page.get_by_role("button", name="Show times").click()
        first = page.locator("ul.times button").first
        expect(first).to_be_visible()
        assert f"({visitor_zone})" in str(first.get_attribute("aria-label"))
        audit(page, "visitor-zone-times")
    finally:
        context.close()


def _scroll_width(page: Page) -> int:
    return int(page.evaluate("() => document.scrollingElement.scrollWidth"))


def test_a_360px_screen_shows_the_times_without_horizontal_scrolling(
    browser: Browser, shop: FreeShop, audit: Audit
) -> None:
    context = _context(browser, shop, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        day = _day(shop, 3)
        page.goto(
            f"{shop.api_url}/book/demo?service={shop.short_id}&provider={shop.provider_id}"
            f"&tz={shop.zone}&date={day.isoformat()}"
        )
        times = page.locator("ul.times button")
        expect(times.first).to_be_visible()
        expect(times.last).to_be_attached()
        assert _scroll_width(page) <= 360
        for index in (0, times.count() - 1):
            box = times.nth(index).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        audit(page, "narrow-1-times")
        times.first.tap()
        page.get_by_label("Name").fill("Nia Narrow")
        page.get_by_label("Email").fill(f"narrow-{int(time.time())}@example.test")
        assert _scroll_width(page) <= 360
        audit(page, "narrow-2-details")
        page.get_by_role("button", name="Book").tap()
        expect(_heading(page)).to_contain_text("Confirmed")
        assert _scroll_width(page) <= 360
        audit(page, "narrow-3-confirmed")
    finally:
        context.close()


def _tab_to(page: Page, selector: str, limit: int = 150) -> None:
    """Tab until the focused element matches `selector` (at most `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def test_a_keyboard_only_booking(browser: Browser, shop: FreeShop, audit: Audit) -> None:
    context = _context(browser, shop)
    try:
        page = context.new_page()
        page.goto(f"{shop.api_url}/book/demo")
        expect(_heading(page)).to_contain_text("Book with")

        # The service: Tab into the radio group, arrow to "Browser 30", Space, then Enter on Next.
        _tab_to(page, "input[type=radio]")
        target = page.locator(f"#svc-{shop.short_id}")
        for _ in range(10):
            if target.is_checked():
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        expect(target).to_be_checked()
        _tab_to(page, "button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=2).first).to_have_text("Browser 30")

        # The day: "Next day" twice from today (provider: anyone).
        for ahead in (1, 2):
            when = _day(shop, ahead).isoformat()
            _tab_to(page, f"a[href$='date={when}']")
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name=f"Times on {when}")).to_be_visible()

        # A time: Tab to the first one and press Space.
        _tab_to(page, "ul.times button")
        page.keyboard.press("Space")
        expect(page.get_by_label("Name")).to_be_visible()

        # The details, typed; Enter on Book.
        _tab_to(page, "#name")
        page.keyboard.type("Kim Keys")
        _tab_to(page, "#email")
        page.keyboard.type(f"keys-{int(time.time())}@example.test")
        _tab_to(page, "button[type=submit]")
        page.keyboard.press("Enter")
        expect(_heading(page)).to_contain_text("Confirmed")
        audit(page, "keyboard-confirmed")
    finally:
        context.close()


def test_a_deposit_paid_through_checkout_lands_on_confirmed(
    browser: Browser, shop: FreeShop, deposit_service: str, audit: Audit
) -> None:
    context = _context(browser, shop)
    try:
        page = context.new_page()
        day = _day(shop, 4)
        page.goto(
            f"{shop.api_url}/book/demo?service={deposit_service}&provider={shop.provider_id}"
            f"&tz={shop.zone}&date={day.isoformat()}"
        )
        page.locator("ul.times button").first.click()
        page.get_by_label("Name").fill("Dee Deposit")
        page.get_by_label("Email").fill(f"deposit-{int(time.time())}@example.test")
        page.get_by_role("button", name="Book").click()

        # The fake Stripe's Checkout page (not ours: no axe there), the deposit as the total.
        expect(page.get_by_role("heading", level=1)).to_have_text("Pay")
        expect(page.locator(".amount")).to_contain_text("10.00")
        page.screenshot(path=str(audit.artefacts / "deposit-1-checkout.png"), full_page=True)
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Paid")
        page.get_by_role("link", name="Continue").click()

        # Back on the manage page: pending until the webhook lands, then confirmed.
        heading = _heading(page)
        for _ in range(60):
            expect(heading).to_be_visible()
            if "Confirmed" in heading.inner_text():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(heading).to_contain_text("Confirmed")
        assert "/manage/" in page.url and "token=" not in page.url, page.url
        audit(page, "deposit-2-confirmed")
    finally:
        context.close()


# --- the embed widget on another site ----------------------------------------------------

PARTNER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partner salon</title></head>
<body><h1>Partner salon</h1><p id="log">no booking yet</p>
<script src="/listen.js"></script>
<script src="{api}/static/embed.js" data-tenant="demo" data-title="Book with Demo Studio" async></script>
</body></html>
"""
PARTNER_SCRIPT = """window.booked = [];
document.addEventListener("scheduling:booked", function (event) {
  window.booked.push(event.detail);
  document.getElementById("log").textContent = "booked " + event.detail.appointmentId;
});
"""


WAITLIST_CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+/waitlist/[^\s\"'<>]+/confirm\?[^\s\"'<>]+")


def _waitlist_link(stack: StackProcess, address: str) -> str:
    """The confirmation URL in the waitlist's mail."""
    return _mail_link(stack, address, "waitlist", WAITLIST_CONFIRM_LINK)


def test_joining_the_waitlist_on_a_narrow_screen_and_confirming_from_the_mail(
    browser: Browser, stack: StackProcess, shop: FreeShop, audit: Audit
) -> None:
    context = _context(browser, shop, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    address = f"waiting-{int(time.time())}@example.test"
    try:
        page = context.new_page()
        page.goto(f"{shop.api_url}/waitlist/demo?service={shop.short_id}&date={_day(shop, 4).isoformat()}")
        expect(_heading(page)).to_contain_text("Join the waitlist")
        assert _scroll_width(page) <= 360
        audit(page, "waitlist-1-join")
        page.get_by_label("Any week on this weekday").check()
        page.get_by_label("Name").fill("Wanda Wait")
        page.get_by_label("Email").fill(address)
        page.get_by_role("button", name="Join the waitlist").tap()
        expect(_heading(page)).to_contain_text("Check your mail")
        audit(page, "waitlist-2-sent")

        page.goto(_waitlist_link(stack, address))
        expect(_heading(page)).to_contain_text("Confirm your waitlist place")
        audit(page, "waitlist-3-confirm")
        page.get_by_role("button", name="Confirm my place").tap()
        expect(_heading(page)).to_contain_text("You are on the waitlist")
        audit(page, "waitlist-4-active")
    finally:
        context.close()


class PartnerSite:
    """A tenant's own site on another local origin: one page with the widget, one listening script."""

    def __init__(self, api_url: str) -> None:
        page, script = PARTNER_PAGE.format(api=api_url).encode(), PARTNER_SCRIPT.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, kind = (script, "text/javascript") if self.path == "/listen.js" else (page, "text/html")
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        """`localhost`, not the stack's `127.0.0.1`: another site, so the frame is truly cross-site."""
        return f"http://localhost:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partners(shop: FreeShop) -> Iterator[tuple[PartnerSite, PartnerSite]]:
    """Two partner sites; the demo tenant allows the first only."""
    allowed, foreign = PartnerSite(shop.api_url), PartnerSite(shop.api_url)
    admin = {"Authorization": f"Bearer {shop.secret_key}"}
    try:
        patched = requests.patch(
            f"{shop.api_url}/v1/admin/tenant", json={"allowedOrigins": [allowed.origin]}, headers=admin, timeout=30
        )
        assert patched.status_code == 200, patched.text
        yield allowed, foreign
    finally:
        requests.patch(f"{shop.api_url}/v1/admin/tenant", json={"allowedOrigins": []}, headers=admin, timeout=30)
        allowed.close()
        foreign.close()


def test_the_widget_on_an_allowed_site_books_and_tells_the_parent(
    browser: Browser, shop: FreeShop, partners: tuple[PartnerSite, PartnerSite], audit: Audit
) -> None:
    allowed, _ = partners
    context = _context(browser, shop)
    try:
        page = context.new_page()
        page.goto(allowed.origin + "/")
        frame = page.frame_locator("iframe[title='Book with Demo Studio']")
        expect(frame.get_by_role("heading", level=1)).to_contain_text("Book with")
        audit.frame(page, _embed_frame(page), "embed-1-partner")

        frame.get_by_label(re.compile(r"^Browser 30 ")).check()
        frame.get_by_role("button", name="Next").click()
        frame.get_by_label("With").select_option(label="Browser Provider")
        frame.get_by_label("Date").fill(_day(shop, 5).isoformat())
        frame.get_by_role("button", name="Show times").click()
        frame.locator("ul.times button").nth(3).click()
        frame.get_by_label("Name").fill("Ela Embed")
        frame.get_by_label("Email").fill(f"embed-{int(time.time())}@example.test")
        audit.frame(page, _embed_frame(page), "embed-2-details")
        frame.get_by_role("button", name="Book").click()
        expect(frame.get_by_role("heading", level=1)).to_contain_text("Confirmed")

        # THEN the parent page received the event (from the booking host, checked by embed.js)
        expect(page.locator("#log")).to_have_text(re.compile(r"^booked apt_\w+$"))
        booked = page.evaluate("() => window.booked")
        assert len(booked) == 1 and booked[0]["status"] == "confirmed", booked
        height = page.evaluate("() => document.querySelector('iframe').style.height")
        assert height != "720px", height  # resized to the frame's content by its height messages
        audit.frame(page, _embed_frame(page), "embed-3-booked")
    finally:
        context.close()


def _embed_frame(page: Page) -> Frame:
    return next(frame for frame in page.frames if "/embed/" in frame.url)


def test_a_deposit_booked_through_the_widget_is_paid_in_the_top_window_and_confirmed_without_a_cookie(
    browser: Browser, shop: FreeShop, deposit_service: str, partners: tuple[PartnerSite, PartnerSite], audit: Audit
) -> None:
    allowed, _ = partners
    context = _context(browser, shop)
    try:
        page = context.new_page()
        page.goto(allowed.origin + "/")
        frame = page.frame_locator("iframe[title='Book with Demo Studio']")
        frame.get_by_label(re.compile(r"^Browser Deposit ")).check()
        frame.get_by_role("button", name="Next").click()
        frame.get_by_label("With").select_option(label="Browser Provider")
        frame.get_by_label("Date").fill(_day(shop, 6).isoformat())
        frame.get_by_role("button", name="Show times").click()
        frame.locator("ul.times button").first.click()
        frame.get_by_label("Name").fill("Pia Partner")
        frame.get_by_label("Email").fill(f"embed-deposit-{int(time.time())}@example.test")
        frame.get_by_role("button", name="Book").click()

        # The frame offers Checkout (Stripe cannot be framed); the parent hears of the pending hold.
        expect(frame.get_by_role("heading", level=1)).to_have_text("One more step: pay to confirm")
        expect(page.locator("#log")).to_have_text(re.compile(r"^booked apt_\w+$"))
        assert page.evaluate("() => window.booked")[0]["status"] == "pending"
        audit.frame(page, _embed_frame(page), "embed-deposit-1-pay")
        frame.get_by_role("link", name=re.compile(r"^Pay .*10\.00 with Stripe$")).click()

        # Checkout in the top window, then back to our return page: no token, no cookie needed.
        expect(page.get_by_role("heading", level=1)).to_have_text("Pay")
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Paid")
        page.get_by_role("link", name="Continue").click()
        heading = _heading(page)
        for _ in range(60):
            expect(heading).to_be_visible()
            if "Confirmed" in heading.inner_text():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(heading).to_contain_text("Confirmed: Browser Deposit")
        assert re.search(r"/manage/apt_\w+/return\?", page.url) and "token" not in page.url, page.url
        assert context.cookies(shop.api_url) == [], context.cookies(shop.api_url)
        audit(page, "embed-deposit-2-confirmed")
    finally:
        context.close()


def test_a_site_that_is_not_allowed_cannot_frame_the_booking_page(
    browser: Browser, shop: FreeShop, partners: tuple[PartnerSite, PartnerSite], audit: Audit
) -> None:
    _, foreign = partners
    context = _context(browser, shop)
    refusals: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: refusals.append(message.text))
        page.goto(foreign.origin + "/")
        expect(page.locator("iframe")).to_be_attached()
        page.wait_for_timeout(2000)
        frame = page.frame_locator("iframe")
        assert frame.get_by_role("heading", name=re.compile("Book with")).count() == 0
        assert page.evaluate("() => window.booked") == []
        assert any("frame-ancestors" in text for text in refusals), refusals
        page.screenshot(path=str(audit.artefacts / "embed-3-refused.png"), full_page=True)
    finally:
        context.close()
