"""Dashboards: the figures are right, the filters narrow them, the page, its CSV files
and the API show the same numbers, and nobody sees what is not theirs."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date, timedelta
from statistics import mean

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment
from clients.models import Phase, ProcessType, Segment
from dashboards import selectors
from dashboards.filters import Filters
from dashboards.models import Standing
from dashboards.selectors import Scope
from dashboards.standings import standing_refresh
from dashboards.tables import TABLES
from education.models import ActionStatus
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    submitted_assessment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio():
    """Two managers' clients in two segments, assessed; one inactive client; one prospect.

    - Alpha (telecom, ana): collections, level 4 then level 1 — falling, low maturity.
    - Beta (banking, bruno): customer service in operation, level 3.
    - Gamma (telecom, ana, archived): level 2 — never counted.
    - Delta (banking, ana): a prospect, not assessed.
    """
    ana = AccountManagerFactory(username="ana", first_name="Ana", last_name="")
    bruno = AccountManagerFactory(username="bruno", first_name="Bruno", last_name="")
    director = DirectorFactory(username="dora")
    alpha = ClientFactory(name="Alpha", segment=Segment.TELECOM, owner=ana)
    beta = ClientFactory(name="Beta", segment=Segment.BANKING, owner=bruno)
    gamma = ClientFactory(name="Gamma", segment=Segment.TELECOM, owner=ana, is_active=False)
    delta = ClientFactory(name="Delta", segment=Segment.BANKING, owner=ana)
    e_alpha = EngagementFactory(
        client=alpha, process_type=ProcessType.COLLECTIONS, phase=Phase.OPERATION
    )
    e_beta = EngagementFactory(
        client=beta, process_type=ProcessType.INBOUND_SERVICE, phase=Phase.TRANSITION
    )
    e_gamma = EngagementFactory(client=gamma, phase=Phase.OPERATION)
    EngagementFactory(client=delta, phase=Phase.PROSPECT)
    first_alpha = submitted_assessment(e_alpha, level=4)
    latest_alpha = submitted_assessment(e_alpha, level=1)
    beta_result = submitted_assessment(e_beta, level=3)
    submitted_assessment(e_gamma, level=2)
    today = timezone.localdate()
    EducationActionFactory(engagement=e_alpha, status=ActionStatus.DONE, due_date=today)
    EducationActionFactory(
        engagement=e_alpha, due_date=today - timedelta(days=3), action_type="site_visit"
    )
    EducationActionFactory(engagement=e_beta, due_date=today + timedelta(days=5))
    EducationActionFactory(
        engagement=e_beta,
        status=ActionStatus.DONE,
        due_date=today - timedelta(days=10),
        uplift=8.0,
        maturity_delta=4.0,
        defensiveness_delta=-2.0,
        action_type="workshop",
    )
    EducationActionFactory(
        engagement=e_alpha,
        status=ActionStatus.DONE,
        due_date=today - timedelta(days=20),
        uplift=-2.0,
        maturity_delta=-1.0,
        defensiveness_delta=1.0,
        action_type="workshop",
    )
    from dashboards.summaries import summaries_rebuild

    summaries_rebuild()
    return {
        "ana": ana,
        "bruno": bruno,
        "director": director,
        "alpha": alpha,
        "beta": beta,
        "e_alpha": e_alpha,
        "e_beta": e_beta,
        "first_alpha": first_alpha,
        "latest_alpha": latest_alpha,
        "beta_result": beta_result,
    }


def figures(user, mine=False, **filters):
    return selectors.portfolio(Scope(user=user, filters=Filters(**filters), mine=mine))


def test_tiles_count_active_clients_and_average_the_latest_results(portfolio):
    result = figures(portfolio["director"])
    latest = [portfolio["latest_alpha"], portfolio["beta_result"]]
    tiles = result.tiles
    assert tiles.active_clients == 3  # Alpha, Beta, Delta — not the archived Gamma
    assert tiles.assessed == 2
    assert tiles.average_maturity == round(mean(a.maturity_score for a in latest), 1)
    assert tiles.average_defensiveness == round(mean(a.defensiveness_index for a in latest), 1)
    guarded = sum(a.quadrant == "guarded_novice" for a in latest)
    assert tiles.guarded_novices == guarded
    assert tiles.guarded_share == round(100 * guarded / 2, 1)
    assert tiles.overdue_actions == 1


def test_levels_quadrants_and_scatter_hold_one_entry_per_assessed_engagement(portfolio):
    result = figures(portfolio["director"])
    by_level = {row.level: row.engagements for row in result.levels}
    assert sorted(by_level) == [1, 2, 3, 4, 5]
    expected: dict[int, int] = {}
    for a in (portfolio["latest_alpha"], portfolio["beta_result"]):
        expected[a.maturity_level] = expected.get(a.maturity_level, 0) + 1
    assert {k: v for k, v in by_level.items() if v} == expected
    assert sum(row.engagements for row in result.quadrants) == 2
    points = {(p.name, p.maturity) for p in result.scatter}
    assert points == {
        ("Alpha", round(portfolio["latest_alpha"].maturity_score, 1)),
        ("Beta", round(portfolio["beta_result"].maturity_score, 1)),
    }


def test_at_risk_names_its_reasons(portfolio):
    result = figures(portfolio["director"])
    items = {item.name: item for item in result.at_risk.items}
    alpha = items["Alpha"]
    assert "low_maturity" in alpha.reasons
    assert "falling" in alpha.reasons
    assert alpha.change == round(
        portfolio["latest_alpha"].maturity_score - portfolio["first_alpha"].maturity_score, 1
    )
    assert result.at_risk.items[0].name == "Alpha"  # the most reasons first
    assert "Gamma" not in items
    # Reassessment overdue: moving Beta's result a year back puts it on the list.
    Assessment.objects.filter(pk=portfolio["beta_result"].pk).update(
        submitted_at=timezone.now() - timedelta(days=200)
    )
    standing_refresh(portfolio["e_beta"].pk)
    items = {i.name: i for i in figures(portfolio["director"]).at_risk.items}
    assert "reassessment_overdue" in items["Beta"].reasons


def test_trend_averages_each_months_assessments(portfolio):
    result = figures(portfolio["director"], period="all")
    counted = list(
        Assessment.objects.filter(engagement__client__is_active=True).exclude(submitted_at=None)
    )
    assert sum(row.assessments for row in result.trend) == len(counted) == 3
    month = timezone.localtime(counted[0].submitted_at).strftime("%Y-%m")
    row = next(r for r in result.trend if r.month == month)
    same_month = [
        a for a in counted if timezone.localtime(a.submitted_at).strftime("%Y-%m") == month
    ]
    assert row.average_maturity == round(mean(a.maturity_score or 0 for a in same_month), 1)


def test_heatmap_averages_latest_dimension_scores_per_segment_or_type(portfolio):
    result = figures(portfolio["director"])
    cells = {(c.group, c.dimension): c for c in result.heatmap}
    latest = portfolio["latest_alpha"]
    for code, score in latest.dimension_results.values_list("code", "score"):
        assert cells[("telecom", code)].average == round(score, 1)
        assert cells[("telecom", code)].engagements == 1
    by_type = figures(portfolio["director"], by="process_type")
    groups = {c.group for c in by_type.heatmap}
    assert groups == {ProcessType.COLLECTIONS, ProcessType.INBOUND_SERVICE}


def test_effort_and_uplift(portfolio):
    result = figures(portfolio["director"])
    effort = {row.name: row for row in result.effort}
    assert effort["Ana"].done == 2
    assert effort["Ana"].overdue == 1
    assert effort["Ana"].completion_rate == round(100 * 2 / 3, 1)
    assert effort["Bruno"].open == 1
    assert effort["Bruno"].completion_rate == 100.0  # one done; the open one is not due
    assert result.effort_totals.done == 3
    uplift = {row.action_type: row for row in result.uplift}
    assert uplift["workshop"].measured == 2
    assert uplift["workshop"].average_uplift == 3.0
    assert "site_visit" not in uplift  # nothing measured


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({"segment": Segment.TELECOM}, {"Alpha"}),
        ({"segment": Segment.BANKING}, {"Beta"}),
        ({"process_type": ProcessType.INBOUND_SERVICE}, {"Beta"}),
        ({"phase": Phase.OPERATION}, {"Alpha"}),
        ({"phase": Phase.RENEWAL}, set()),
    ],
)
def test_filters_narrow_every_figure(portfolio, filters, names):
    result = figures(portfolio["director"], **filters)
    assert {p.name for p in result.scatter} == names
    assert result.tiles.assessed == len(names)
    assert {i.name for i in result.at_risk.items} <= names
    clients = {"Alpha": portfolio["e_alpha"], "Beta": portfolio["e_beta"]}
    actions = sum(1 for name in names for _a in clients[name].education_actions.all())
    assert sum(r.done + r.open for r in result.effort) == actions


def test_owner_filter_shows_one_managers_figures(portfolio):
    result = figures(portfolio["director"], owner=portfolio["bruno"].pk)
    assert {p.name for p in result.scatter} == {"Beta"}
    assert {r.name for r in result.effort} == {"Bruno"}
    assert result.tiles.active_clients == 1


def test_the_period_keeps_engagements_assessed_in_it(portfolio):
    old = timezone.now() - timedelta(days=800)
    Assessment.objects.filter(engagement=portfolio["e_beta"]).update(submitted_at=old)
    standing_refresh(portfolio["e_beta"].pk)
    assert {p.name for p in figures(portfolio["director"]).scatter} == {"Alpha"}
    assert {p.name for p in figures(portfolio["director"], period="all").scatter} == {
        "Alpha",
        "Beta",
    }
    since = Filters(period="3").since()
    assert since is not None
    assert since.day == 1
    assert since <= timezone.now() - timedelta(days=59)


def test_an_overdue_reassessment_is_at_risk_whatever_the_period(portfolio):
    # Beta was last assessed 800 days ago: out of every period but "all time", and long
    # past its reassessment — exactly the engagement the at-risk list must not lose.
    old = timezone.now() - timedelta(days=800)
    Assessment.objects.filter(engagement=portfolio["e_beta"]).update(submitted_at=old)
    standing_refresh(portfolio["e_beta"].pk)
    for period in ("3", "12", "all"):
        result = figures(portfolio["director"], period=period)
        items = {item.name: item for item in result.at_risk.items}
        assert items["Beta"].reasons == ("reassessment_overdue",), period
        assert result.at_risk.total == len(items) == 2
    # The period still decides what the averages and the scatter count.
    twelve = figures(portfolio["director"], period="12")
    assert twelve.tiles.assessed == 1
    assert {p.name for p in twelve.scatter} == {"Alpha"}
    assert sum(row.engagements for row in twelve.levels) == 1
    # An old assessment whose reassessment is not yet due stays out of a short period.
    Assessment.objects.filter(engagement=portfolio["e_beta"]).update(
        submitted_at=timezone.now() - timedelta(days=120), maturity_level=5
    )
    standing_refresh(portfolio["e_beta"].pk)
    assert "Beta" not in {i.name for i in figures(portfolio["director"], period="3").at_risk.items}


def test_an_account_manager_sees_only_their_own_clients_whatever_they_ask(portfolio):
    ana = portfolio["ana"]
    mine = figures(ana, mine=True)
    assert {p.name for p in mine.scatter} == {"Alpha"}
    assert {r.name for r in mine.effort} == {"Ana"}
    # Asking for another manager's clients gives nothing, not their figures.
    theirs = figures(ana, mine=True, owner=portfolio["bruno"].pk)
    assert theirs.scatter == ()
    assert theirs.tiles.active_clients == 0
    # Even the portfolio selector, called for a manager, narrows to their clients.
    assert {p.name for p in figures(ana).scatter} == {"Alpha"}


# --- Pages -----------------------------------------------------------------------------


def test_the_portfolio_page_is_for_directors(client, portfolio):
    url = reverse("dashboards:portfolio")
    client.force_login(portfolio["ana"])
    assert client.get(url).status_code == 403
    assert client.get(reverse("dashboards:export", args=["at_risk"])).status_code == 403
    assert client.get(reverse("api-dashboard-portfolio")).status_code == 403
    assert client.get(reverse("dashboards:home")).url == reverse("dashboards:mine")
    client.force_login(portfolio["director"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"Alpha" in response.content
    # With no period asked for, the select shows the default one.
    assert b'<option value="12" selected>' in response.content
    assert client.get(reverse("dashboards:home")).url == url


def test_anonymous_visitors_are_sent_to_log_in(client):
    for name in ("dashboards:portfolio", "dashboards:mine"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response.url
    assert client.get(reverse("api-dashboard-mine")).status_code in (401, 403)


def test_the_managers_page_shows_their_clients_only(client, portfolio):
    client.force_login(portfolio["ana"])
    response = client.get(reverse("dashboards:mine"), {"owner": portfolio["bruno"].pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha" in body
    assert "Beta" not in body
    assert 'name="owner"' not in body  # no manager filter on one's own dashboard
    export = client.get(reverse("dashboards:mine_export", args=["scatter"]))
    assert "Beta" not in b"".join(export.streaming_content).decode()


def test_htmx_gets_the_body_and_the_at_risk_pages(client, portfolio):
    client.force_login(portfolio["director"])
    url = reverse("dashboards:portfolio")
    body = client.get(url, {"segment": "telecom"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="dashboard-body"')
    assert "<html" not in body
    part = client.get(url, {"part": "at_risk", "page": "9"}).content.decode()
    assert part.lstrip().startswith('<section id="at-risk"')
    assert "Alpha" in part  # a page past the end shows the last page


def test_bad_filters_are_named_and_ignored_on_the_page(client, portfolio):
    client.force_login(portfolio["director"])
    response = client.get(
        reverse("dashboards:portfolio"), {"segment": "nope", "period": "7", "page": "x"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Some filters were not understood" in body
    assert "Alpha" in body
    assert "Beta" in body


def test_every_table_downloads_with_the_pages_rows(client, portfolio):
    client.force_login(portfolio["director"])
    params = {"segment": "telecom", "period": "all"}
    page = client.get(reverse("dashboards:portfolio"), params)
    for name, table in TABLES.items():
        response = client.get(reverse("dashboards:export", args=[name]), params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == [str(c) for c in table.columns]
        expected = [
            ["" if c is None else str(c) for c in row]
            for row in table.rows(table.part(page.context["figures"]))
        ]
        assert rows[1:] == expected, name
        if name in page.context["t"]:  # the page's table shows these very rows
            assert page.context["t"][name]["rows"] == table.rows(
                table.part(page.context["figures"])
            )
    assert client.get(reverse("dashboards:export", args=["nope"])).status_code == 404


def test_a_formula_in_a_client_name_is_defused_in_the_csv(client, portfolio):
    portfolio["alpha"].name = "=HYPERLINK(1)"
    portfolio["alpha"].save()
    client.force_login(portfolio["director"])
    response = client.get(reverse("dashboards:export", args=["scatter"]))
    assert "'=HYPERLINK(1)" in b"".join(response.streaming_content).decode()


def test_an_empty_portfolio_says_so(client):
    client.force_login(DirectorFactory())
    response = client.get(reverse("dashboards:portfolio"))
    assert response.status_code == 200
    assert "No assessed engagements here" in response.content.decode()


# --- API -------------------------------------------------------------------------------


def test_the_api_returns_the_pages_figures_for_the_same_filters(client, portfolio):
    client.force_login(portfolio["director"])
    params = {"segment": "telecom", "by": "process_type"}
    data = client.get(reverse("api-dashboard-portfolio"), params).json()
    figures = client.get(reverse("dashboards:portfolio"), params).context["figures"]
    page = asdict(figures) | {"scatter": [p._asdict() for p in figures.scatter]}
    for figure in ("tiles", "levels", "scatter", "trend", "heatmap", "effort", "uplift"):
        assert data[figure] == json.loads(json.dumps(page[figure])), figure
    assert [i["engagement"] for i in data["at_risk"]["items"]] == [
        i["engagement"] for i in page["at_risk"]["items"]
    ]
    assert data["filters"]["segment"] == "telecom"


def test_the_api_refuses_bad_filters_with_their_names(client, portfolio):
    client.force_login(portfolio["director"])
    response = client.get(
        reverse("api-dashboard-portfolio"), {"segment": "nope", "colour": "red", "page": "0"}
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"segment", "colour", "page"}


def test_the_api_refuses_an_empty_filter_the_page_reads_as_any(client, portfolio):
    # The page's form sends untouched fields empty; through the API a value was lost.
    client.force_login(portfolio["director"])
    response = client.get(reverse("api-dashboard-portfolio"), {"owner": "", "segment": ""})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"owner", "segment"}
    assert client.get("/dashboard/portfolio/?owner=&segment=").status_code == 200


def test_the_managers_api_has_no_owner_filter(client, portfolio):
    client.force_login(portfolio["ana"])
    assert (
        client.get(reverse("api-dashboard-mine"), {"owner": portfolio["bruno"].pk}).status_code
        == 400
    )
    data = client.get(reverse("api-dashboard-mine")).json()
    assert {p["name"] for p in data["scatter"]} == {"Alpha"}


# --- Scale -----------------------------------------------------------------------------


def _bulk_portfolio(count: int, start: int, owner, version) -> None:
    """``count`` clients with an assessed engagement and an action each, in bulk."""
    from clients.models import Client, Engagement
    from education.models import EducationAction

    clients = Client.objects.bulk_create(
        Client(
            name=f"Bulk {start + i}",
            segment=Segment.values[i % 5],
            size="large",
            country="BR",
            owner=owner,
        )
        for i in range(count)
    )
    engagements = Engagement.objects.bulk_create(
        Engagement(client=c, process_type=ProcessType.COLLECTIONS, phase=Phase.OPERATION)
        for c in clients
    )
    now = timezone.now()
    assessments = Assessment.objects.bulk_create(
        Assessment(
            engagement=e,
            version=version,
            assessor=owner,
            status="submitted",
            submitted_at=now - timedelta(days=i % 300),
            maturity_score=(i * 7) % 100,
            maturity_level=1 + ((i * 7) % 100) // 20,
            defensiveness_index=(i * 13) % 100,
            quadrant="guarded_novice",
        )
        for i, e in enumerate(engagements)
    )
    Standing.objects.bulk_create(
        Standing(
            engagement=a.engagement,
            client=a.engagement.client,
            client_name=a.engagement.client.name,
            client_active=True,
            segment=a.engagement.client.segment,
            client_owner=owner,
            process_type=a.engagement.process_type,
            phase=a.engagement.phase,
            questionnaire_id=version.questionnaire_id,
            d01=50.0,
            d02=40.0,
            assessment=a,
            submitted_at=a.submitted_at,
            maturity_score=a.maturity_score,
            maturity_level=a.maturity_level,
            defensiveness_index=a.defensiveness_index,
            quadrant=a.quadrant,
            reassess_due_at=a.submitted_at + timedelta(days=90),
        )
        for a in assessments
    )
    EducationAction.objects.bulk_create(
        EducationAction(
            engagement=e,
            client=e.client,
            owner=owner,
            action_type="workshop",
            due_date=date.today() - timedelta(days=1),
        )
        for e in engagements
    )


def test_the_dashboard_asks_the_same_number_of_queries_for_1000_and_10000_clients(
    client, postgres, count_queries
):
    from tests.factories import published_default_version

    version = published_default_version()
    director = DirectorFactory()
    owner = AccountManagerFactory()
    client.force_login(director)
    url = reverse("dashboards:portfolio")

    def count() -> tuple[int, int]:
        with count_queries() as figures_queries:
            selectors.portfolio(Scope(user=director, filters=Filters()))
        with count_queries() as page_queries:
            assert client.get(url, {"segment": "telecom"}).status_code == 200
        return figures_queries.count, page_queries.count

    from dashboards.summaries import summaries_rebuild
    from voice.models import Round

    def hear_a_third() -> None:
        """A third of the engagements have heard their client (the gap's columns; the
        rebuild clears them, as no client answered here)."""
        round_ = Round.objects.create(
            engagement=Standing.objects.first().engagement,
            version=version,
            closes_on=timezone.localdate() + timedelta(days=9),
            closed_at=timezone.now(),
        )
        Standing.objects.alias(third=F("engagement_id") % 3).filter(third=0).update(
            gap_round=round_, gap_respondents=2, gap_mean=12.5, g01=25.0
        )

    _bulk_portfolio(1000, 0, owner, version)
    summaries_rebuild()
    hear_a_third()
    small = count()
    _bulk_portfolio(9000, 1000, owner, version)
    summaries_rebuild()
    hear_a_third()
    large = count()
    assert Standing.objects.count() == 10_000
    assert small == large
    assert small[0] == 10  # one query a figure: see dashboards.selectors.portfolio
    # The perception gap comes with the standings' queries (a third heard their client).
    figures = selectors.portfolio(Scope(user=director, filters=Filters(period="all")))
    assert figures.tiles.heard == Standing.objects.filter(gap_round__isnull=False).count() > 3000
    assert figures.tiles.average_gap == 0.5
    assert {c.gap for c in figures.heatmap if c.heard} == {1.0}


def test_odd_page_numbers_never_break_the_page_or_the_api(client, portfolio):
    client.force_login(portfolio["director"])
    for page in ("²", "①", "9" * 4400, "-3", "0", "1.5"):
        assert client.get(reverse("dashboards:portfolio"), {"page": page}).status_code == 200
        response = client.get(reverse("api-dashboard-portfolio"), {"page": page})
        assert response.status_code == 400, page
        assert response.json()["errors"][0]["field"] == "page"


def test_htmx_answers_vary_and_a_history_restore_gets_the_whole_page(client, portfolio):
    client.force_login(portfolio["director"])
    url = reverse("dashboards:portfolio")
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert "HX-Request" in response["Vary"]
    restored = client.get(
        url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<html" in restored


def test_a_bad_filter_is_named_by_its_label(client, portfolio):
    client.force_login(portfolio["director"])
    body = client.get(reverse("dashboards:portfolio"), {"owner": "999999"}).content.decode()
    assert "<strong>Account manager</strong>:" in body
