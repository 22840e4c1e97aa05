"""The perception gap on the portfolio dashboard (dashboards/gaps.py): the tile and the
segment × dimension heatmap of gaps, against a hand computation, kept when a respondent
finishes and at each rebuild of the summaries, filtered like the rest, in the API too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Segment
from dashboards import selectors
from dashboards.filters import Filters
from dashboards.models import Standing
from dashboards.selectors import Scope
from dashboards.summaries import summaries_rebuild
from tests.factories import (
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
    StakeholderFactory,
    published_default_version,
    submitted_assessment,
)
from voice.services import (
    client_answer_save,
    client_questions,
    invitation_create,
    invitation_finish,
    round_open,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    published_default_version()


def heard(engagement, answers: dict[str, int], *, finish: bool = True):
    """A round on ``engagement`` that one stakeholder answers with ``answers`` (levels by
    question code), done or not."""
    owner = engagement.client.owner
    round_ = round_open(
        engagement=engagement, by=owner, closes_on=timezone.localdate() + timedelta(days=9)
    )
    asked = {q.code: q for q in client_questions(round_.version)}
    person = StakeholderFactory(client=engagement.client, email=f"s{round_.pk}@client.example")
    invitation, _ = invitation_create(round=round_, stakeholder=person, language="es", by=owner)
    for code, level in answers.items():
        client_answer_save(
            invitation=invitation, question_id=asked[code].pk, value=level, revision=None
        )
    if finish:
        invitation_finish(invitation=invitation)
    return round_


def figures(director, **filters):
    return selectors.portfolio(Scope(user=director, filters=Filters(**filters)))


def test_the_tile_and_the_heatmap_against_a_hand_computation(client):
    director = DirectorFactory()
    telecom = EngagementFactory(client=ClientFactory(segment=Segment.TELECOM))
    banking = EngagementFactory(client=ClientFactory(segment=Segment.BANKING))
    submitted_assessment(telecom, level=2)  # ours: level 2 everywhere
    submitted_assessment(banking, level=4)  # ours: level 4 everywhere
    summaries_rebuild()
    assert figures(director).tiles.heard == 0
    assert figures(director).tiles.average_gap is None

    # Telecom's client answers governance: gov-1 (weight 2) 5, gov-2 2 →
    # (2·1 + 1·0.25)/3 = 0.75 → 75 points, level 4.0; ours 2.0: a gap of +2.0 levels, the
    # only maturity dimension answered, so the engagement's mean gap too. Saying "done"
    # puts it on the dashboard at once.
    first = heard(telecom, {"gov-1": 5, "gov-2": 2})
    standing = Standing.objects.get(pk=telecom.pk)
    assert (standing.gap_round_id, standing.gap_respondents) == (first.pk, 1)
    assert standing.gap_mean == pytest.approx(50.0)
    assert standing.gap_wide
    tiles = figures(director).tiles
    assert (tiles.heard, tiles.average_gap, tiles.wide_gaps) == (1, 2.0, 1)
    cells = {(c.group, c.dimension): c for c in figures(director).heatmap if c.heard}
    assert {key: (c.gap, c.heard) for key, c in cells.items()} == {
        ("telecom", "governance"): (2.0, 1)
    }
    assert cells["telecom", "governance"].gap_shade == "up-4"

    # Banking's client answers process knowledge at level 2 (ours 4: −2.0) and has not
    # said it is done: the next rebuild of the summaries brings it in.
    heard(banking, {"pk-1": 2, "pk-3": 2}, finish=False)
    assert figures(director).tiles.heard == 1
    summaries_rebuild()
    tiles = figures(director).tiles
    assert (tiles.heard, tiles.average_gap, tiles.wide_gaps) == (2, 0.0, 2)
    cells = {(c.group, c.dimension): c.gap for c in figures(director).heatmap if c.heard}
    assert cells == {("telecom", "governance"): 2.0, ("banking", "process-knowledge"): -2.0}

    # Filtered like the rest of the dashboard.
    banking_only = figures(director, segment=Segment.BANKING).tiles
    assert (banking_only.heard, banking_only.average_gap) == (1, -2.0)

    # A later round with respondents replaces the earlier one: governance now 3 and 3 →
    # 0.5 → level 3.0, a gap of +1.0 (still a level: wide).
    from voice.services import round_close

    round_close(round=first, by=telecom.client.owner)
    second = heard(telecom, {"gov-1": 3, "gov-2": 3})
    standing.refresh_from_db()
    assert standing.gap_round_id == second.pk
    assert standing.gap_mean == pytest.approx(25.0)

    # The page and the API show the same figures.
    client.force_login(director)
    html = client.get(reverse("dashboards:portfolio")).content.decode()
    assert "Perception gap by group" in html
    assert '<th scope="colgroup" colspan="2" class="gap-group">Maturity</th>' in html
    assert 'class="gap-cell gap-up-2"' in html  # telecom × governance, +1.0
    assert ">+1.0</td>" in html
    assert 'class="gap-cell gap-down-4"' in html  # banking × process knowledge, −2.0
    api = client.get(reverse("api-dashboard-portfolio")).json()
    assert (api["tiles"]["heard"], api["tiles"]["average_gap"]) == (2, -0.5)
    assert {(c["group"], c["dimension"], c["gap"]) for c in api["heatmap"] if c["heard"]} == {
        ("telecom", "governance", 1.0),
        ("banking", "process-knowledge", -2.0),
    }


def test_no_gap_without_our_view_nor_on_a_page_that_heard_nobody(client):
    """An engagement whose client answered but that we never assessed has no standing and
    no gap; a dashboard where nobody was heard shows no gap heatmap."""
    director = DirectorFactory()
    assessed = EngagementFactory(client=ClientFactory(segment=Segment.RETAIL))
    submitted_assessment(assessed, level=3)
    never = EngagementFactory(client=ClientFactory(segment=Segment.RETAIL))
    heard(never, {"gov-1": 5})
    summaries_rebuild()
    assert not Standing.objects.filter(pk=never.pk).exists()
    assert figures(director).tiles.heard == 0
    client.force_login(director)
    html = client.get(reverse("dashboards:portfolio")).content.decode()
    assert "Perception gap by group" not in html
    assert 'data-tile="average_gap"' in html
