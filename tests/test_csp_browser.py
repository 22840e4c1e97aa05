"""The Content-Security-Policy in Chromium: every main page — the managers', the
directors', the admin, the API's Swagger UI — renders and works with no violation
reported (the browser's securitypolicyviolation events are collected on every page)."""

from __future__ import annotations

import pytest

from tests.test_accessibility import the_demo
from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every page before its own scripts: keeps what the browser refused.
COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"} ${where}`);
});
"""


def test_the_main_pages_render_under_the_policy_without_a_violation(live_server, sized_page):
    from assessments.models import QuestionnaireVersion

    page = sized_page
    page.add_init_script(COLLECT)
    submitted, draft = the_demo("en")
    client = submitted.engagement.client_id
    version = QuestionnaireVersion.objects.filter(status="published").first()
    found: dict[str, list[str]] = {}
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def visit(path: str) -> None:
        response = page.goto(live_server.url + path)
        assert response is not None
        assert response.status < 400, (path, response.status)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        if violations := page.evaluate("window.__violations"):
            found[path] = violations

    visit("/accounts/login/")
    login(page, live_server, "manager", "demo")
    for path in (
        "/",
        "/clients/",
        f"/clients/{client}/",
        f"/assessments/{submitted.pk}/result/",
        "/education/",
        "/education/notifications/",
        "/dashboard/mine/",
        f"/clients/{client}/report/",
        "/api/docs/",
    ):
        visit(path)
    # Swagger UI drew the operations (its script ran, as a file).
    page.goto(live_server.url + "/api/docs/")
    page.locator(".opblock").first.wait_for()

    # The fill page's autosave still starts from typing (no trigger filter to evaluate).
    visit(f"/assessments/{draft.pk}/")
    note = page.locator("textarea[name=note]").first
    note.locator("xpath=ancestor::details").evaluate("d => d.open = true")
    note.type("Evidência: ata da reunião")
    page.locator(".save-status.save-ok").first.wait_for()
    assert page.evaluate("window.__violations") == []

    page.context.clear_cookies()
    login(page, live_server, "director", "demo")
    for path in (
        "/dashboard/portfolio/",
        "/assessments/review/",
        "/questionnaires/",
        f"/questionnaires/versions/{version.pk}/",
        "/education/playbooks/",
        "/accounts/security/",
        f"/clients/{client}/report/?audience=team",
    ):
        visit(path)
    # The portfolio's charts drew (their script ran) and its heatmap is shaded by class.
    page.goto(live_server.url + "/dashboard/portfolio/")
    page.wait_for_load_state("networkidle")
    assert page.locator("canvas").count() >= 1
    shaded = page.locator("td.heat").first
    assert shaded.evaluate("td => getComputedStyle(td).getPropertyValue('--v').trim()") != ""

    page.context.clear_cookies()
    login(page, live_server, "admin", "demo")
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        "/admin/clients/client/",
        "/admin/axes/accessattempt/",
    ):
        visit(path)

    assert found == {}
    assert console == []
