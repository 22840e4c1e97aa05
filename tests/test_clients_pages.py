"""The client pages: list, client page, forms and inline sections, scoped per user."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import (
    AuditEvent,
    Client,
    Engagement,
    EngagementPhaseChange,
    PastExperience,
    Phase,
    Stakeholder,
    TimelineEntry,
)
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager():
    return AccountManagerFactory(first_name="Ana")


@pytest.fixture
def other_manager():
    return AccountManagerFactory(first_name="Bruno")


@pytest.fixture
def others_client(other_manager):
    client = ClientFactory(owner=other_manager, name="Segredo Telecom")
    engagement = EngagementFactory(client=client)
    Stakeholder.objects.create(client=client, name="Carla", influence=3)
    PastExperience.objects.create(
        client=client, supplier="X", process_type="collections", outcome="failure", severity=4
    )
    TimelineEntry.objects.create(
        client=client, kind="note", occurred_on=date(2026, 1, 5), title="t", author=other_manager
    )
    return client, engagement


def section_row(client: Client, key: str):
    return {
        "engagements": client.engagements,
        "stakeholders": client.stakeholders,
        "experiences": client.past_experiences,
        "timeline": client.timeline,
    }[key].get()


class TestAccess:
    def test_a_manager_does_not_see_another_managers_client_in_the_list(
        self, client, manager, others_client
    ):
        ClientFactory(owner=manager, name="Meu Banco")
        client.force_login(manager)
        page = client.get(reverse("clients:list")).content.decode()
        assert "Meu Banco" in page
        assert "Segredo Telecom" not in page

    @pytest.mark.parametrize("name", ["clients:detail", "clients:edit"])
    def test_another_managers_client_pages_are_404(self, client, manager, others_client, name):
        client.force_login(manager)
        response = client.get(reverse(name, args=[others_client[0].pk]))
        assert response.status_code == 404
        assert "Segredo" not in response.content.decode()

    def test_another_managers_client_cannot_be_edited_or_archived(
        self, client, manager, others_client
    ):
        target = others_client[0]
        client.force_login(manager)
        assert (
            client.post(reverse("clients:edit", args=[target.pk]), {"name": "Hacked"}).status_code
            == 404
        )
        assert client.post(reverse("clients:archive", args=[target.pk])).status_code == 404
        target.refresh_from_db()
        assert target.name == "Segredo Telecom"
        assert target.is_active

    @pytest.mark.parametrize("key", ["engagements", "stakeholders", "experiences", "timeline"])
    def test_another_managers_sections_are_404_for_every_action(
        self, client, manager, others_client, key
    ):
        target = others_client[0]
        row = section_row(target, key)
        client.force_login(manager)
        urls = [
            reverse("clients:section", args=[target.pk, key]),
            reverse("clients:section_add", args=[target.pk, key]),
            reverse("clients:section_edit", args=[target.pk, key, row.pk]),
        ]
        for url in urls:
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"name": "x"}).status_code == 404, url
        assert (
            client.post(
                reverse("clients:section_delete", args=[target.pk, key, row.pk])
            ).status_code
            == 404
        )
        assert type(row).objects.filter(pk=row.pk).exists()

    def test_a_team_member_sees_and_edits_the_client(self, client, manager, others_client):
        target = others_client[0]
        target.team_members.add(manager)
        client.force_login(manager)
        assert client.get(reverse("clients:detail", args=[target.pk])).status_code == 200
        response = client.post(
            reverse("clients:section_add", args=[target.pk, "stakeholders"]),
            {"name": "Nova Pessoa", "influence": 4, "stance": "sponsor"},
        )
        assert response.status_code == 302
        assert target.stakeholders.filter(name="Nova Pessoa").exists()

    def test_a_director_sees_every_client(self, client, others_client):
        client.force_login(DirectorFactory())
        assert client.get(reverse("clients:detail", args=[others_client[0].pk])).status_code == 200
        assert "Segredo Telecom" in client.get(reverse("clients:list")).content.decode()

    def test_only_the_author_or_a_director_changes_a_timeline_entry(
        self, client, manager, other_manager, others_client
    ):
        target = others_client[0]
        target.team_members.add(manager)
        entry = target.timeline.get()
        client.force_login(manager)
        edit = reverse("clients:section_edit", args=[target.pk, "timeline", entry.pk])
        assert client.get(edit).status_code == 403
        assert (
            client.post(
                reverse("clients:section_delete", args=[target.pk, "timeline", entry.pk])
            ).status_code
            == 403
        )
        client.force_login(DirectorFactory())
        assert client.get(edit).status_code == 200

    def test_anonymous_users_are_sent_to_login(self, client, others_client):
        response = client.get(reverse("clients:detail", args=[others_client[0].pk]))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


class TestClientForm:
    def valid(self, **overrides):
        data = {"name": "Banco Novo", "segment": "banking", "size": "large", "country": "BR"}
        data.update(overrides)
        return data

    def test_a_manager_creates_a_client_they_own(self, client, manager):
        client.force_login(manager)
        response = client.post(reverse("clients:create"), self.valid())
        created = Client.objects.get(name="Banco Novo")
        assert response["Location"] == reverse("clients:detail", args=[created.pk])
        assert created.owner == manager
        assert AuditEvent.objects.filter(client=created, action="created", actor=manager).exists()

    def test_a_manager_cannot_give_a_client_to_someone_else(self, client, manager, other_manager):
        client.force_login(manager)
        client.post(reverse("clients:create"), self.valid(owner=other_manager.pk))
        assert Client.objects.get(name="Banco Novo").owner == manager

    def test_a_director_chooses_the_owner(self, client, other_manager):
        client.force_login(DirectorFactory())
        client.post(reverse("clients:create"), self.valid(owner=other_manager.pk))
        assert Client.objects.get(name="Banco Novo").owner == other_manager

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"name": ""}, "name", "This field is required."),
            ({"segment": "mining"}, "segment", "Select a valid choice."),
            ({"owner": "999999"}, "owner", "Select a valid choice."),
            (
                {"notes": "x" * (10 * 1024 * 1024)},
                "notes",
                "Ensure this value has at most 20000 characters",
            ),
        ],
    )
    def test_bad_input_gets_a_message_on_its_field_and_stores_nothing(
        self, client, other_manager, overrides, field, message
    ):
        client.force_login(DirectorFactory())
        data = self.valid(**{"owner": other_manager.pk, **overrides})
        response = client.post(reverse("clients:create"), data)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert message in " ".join(errors[field])
        assert not Client.objects.exists()

    def test_a_director_as_owner_is_refused(self, client):
        director = DirectorFactory()
        client.force_login(director)
        response = client.post(reverse("clients:create"), self.valid(owner=director.pk))
        assert "owner" in response.context["form"].errors
        assert not Client.objects.exists()

    def test_a_duplicate_name_is_refused_whatever_its_case(self, client, manager):
        ClientFactory(name="Banco Novo")
        client.force_login(manager)
        response = client.post(reverse("clients:create"), self.valid(name="BANCO NOVO"))
        assert "A client with this name already exists." in str(response.context["form"].errors)
        assert Client.objects.count() == 1

    def test_messages_speak_the_users_language(self, client, manager):
        manager.language = "pt-br"
        manager.save()
        client.force_login(manager)
        response = client.post(reverse("clients:create"), self.valid(name=""))
        assert "Este campo é obrigatório." in response.content.decode()

    def test_the_form_keeps_what_was_typed_after_an_error(self, client, manager):
        client.force_login(manager)
        response = client.post(
            reverse("clients:create"), self.valid(name="", notes="Reunião importante")
        )
        assert "Reunião importante" in response.content.decode()

    def test_editing_records_who_changed_what(self, client, manager):
        target = ClientFactory(owner=manager, name="Antigo")
        client.force_login(manager)
        client.post(
            reverse("clients:edit", args=[target.pk]),
            self.valid(name="Novo Nome", segment="telecom"),
        )
        event = AuditEvent.objects.get(client=target, action="updated")
        assert event.actor == manager
        assert event.changes["name"] == ["Antigo", "Novo Nome"]
        assert event.changes["segment"] == ["banking", "telecom"]
        page = client.get(reverse("clients:detail", args=[target.pk])).content.decode()
        assert "Antigo → Novo Nome" in page

    def test_archiving_keeps_the_client_and_records_it(self, client, manager):
        target = ClientFactory(owner=manager)
        client.force_login(manager)
        client.post(reverse("clients:archive", args=[target.pk]))
        target.refresh_from_db()
        assert not target.is_active
        assert AuditEvent.objects.filter(client=target, action="archived").exists()
        client.post(reverse("clients:archive", args=[target.pk]), {"restore": "1"})
        target.refresh_from_db()
        assert target.is_active


class TestSections:
    def test_adding_through_htmx_returns_the_refreshed_section(self, client, manager):
        target = ClientFactory(owner=manager)
        client.force_login(manager)
        response = client.post(
            reverse("clients:section_add", args=[target.pk, "engagements"]),
            {"process_type": "collections", "phase": "transition", "start_date": "2026-01-10"},
            **HTMX,
        )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#section-engagements"
        assert "Collections" in response.content.decode()
        engagement = target.engagements.get()
        assert engagement.phase == Phase.TRANSITION
        assert engagement.phase_changes.get().to_phase == Phase.TRANSITION

    def test_an_invalid_inline_form_comes_back_with_its_errors_and_values(self, client, manager):
        target = ClientFactory(owner=manager)
        client.force_login(manager)
        response = client.post(
            reverse("clients:section_add", args=[target.pk, "engagements"]),
            {
                "process_type": "collections",
                "phase": "operation",
                "start_date": "2026-05-01",
                "end_date": "2026-01-01",
                "description": "Cobrança PF",
            },
            **HTMX,
        )
        body = response.content.decode()
        assert "HX-Retarget" not in response
        assert "The end date cannot be before the start date." in body
        assert "Cobrança PF" in body
        assert "<html" not in body  # only the form partial
        assert not Engagement.objects.exists()

    def test_severity_outside_1_to_5_is_refused(self, client, manager):
        target = ClientFactory(owner=manager)
        client.force_login(manager)
        response = client.post(
            reverse("clients:section_add", args=[target.pk, "experiences"]),
            {
                "supplier": "Old BPO",
                "process_type": "collections",
                "outcome": "failure",
                "severity": 9,
                "legacy": "none",
            },
        )
        assert "Ensure this value is less than or equal to 5." in str(
            response.context["form"].errors["severity"]
        )
        assert not PastExperience.objects.exists()

    def test_past_experiences_keep_their_tags(self, client, manager):
        target = ClientFactory(owner=manager)
        client.force_login(manager)
        client.post(
            reverse("clients:section_add", args=[target.pk, "experiences"]),
            {
                "supplier": "Old BPO",
                "process_type": "collections",
                "outcome": "failure",
                "severity": 4,
                "legacy": "contract_clause",
                "went_wrong": ["trust", "money"],
            },
        )
        assert target.past_experiences.get().went_wrong == ["trust", "money"]

    def test_a_timeline_entry_cannot_point_at_another_clients_engagement(self, client, manager):
        target = ClientFactory(owner=manager)
        foreign = EngagementFactory(client=ClientFactory(owner=manager))
        client.force_login(manager)
        response = client.post(
            reverse("clients:section_add", args=[target.pk, "timeline"]),
            {
                "kind": "note",
                "relevance": "low",
                "occurred_on": "2026-02-01",
                "title": "x",
                "engagement": foreign.pk,
            },
        )
        assert "engagement" in response.context["form"].errors
        assert not TimelineEntry.objects.exists()

    def test_changing_the_phase_records_history_and_audit(self, client, manager):
        engagement = EngagementFactory(client=ClientFactory(owner=manager), phase=Phase.TRANSITION)
        client.force_login(manager)
        client.post(
            reverse(
                "clients:section_edit", args=[engagement.client.pk, "engagements", engagement.pk]
            ),
            {"process_type": "collections", "phase": "operation"},
            **HTMX,
        )
        change = EngagementPhaseChange.objects.get(engagement=engagement)
        assert (change.from_phase, change.to_phase, change.changed_by) == (
            "transition",
            "operation",
            manager,
        )
        assert AuditEvent.objects.get(engagement=engagement).action == "phase_changed"

    def test_deleting_a_stakeholder(self, client, manager):
        target = ClientFactory(owner=manager)
        person = Stakeholder.objects.create(client=target, name="Zé", influence=2)
        client.force_login(manager)
        response = client.post(
            reverse("clients:section_delete", args=[target.pk, "stakeholders", person.pk]), **HTMX
        )
        assert response.status_code == 200
        assert not Stakeholder.objects.exists()

    def test_a_new_timeline_entry_is_dated_today(self, client, manager):
        client_row = ClientFactory(owner=manager)
        client.force_login(manager)
        url = reverse("clients:section_add", args=[client_row.pk, "timeline"])
        body = client.get(url).content.decode()
        assert f'value="{timezone.localdate().isoformat()}"' in body

    def test_the_timeline_is_newest_first(self, client, manager):
        target = ClientFactory(owner=manager)
        for day, title in [(3, "Entry-B"), (9, "Entry-C"), (1, "Entry-A")]:
            TimelineEntry.objects.create(
                client=target,
                kind="note",
                occurred_on=date(2026, 3, day),
                title=title,
                author=manager,
            )
        client.force_login(manager)
        page = client.get(reverse("clients:detail", args=[target.pk])).content.decode()
        assert page.index("Entry-C") < page.index("Entry-B") < page.index("Entry-A")


class TestList:
    def test_filters_search_segment_phase_and_status(self, client, manager):
        a = ClientFactory(owner=manager, name="Banco Sol", segment="banking")
        b = ClientFactory(owner=manager, name="Sol Telecom", segment="telecom")
        c = ClientFactory(owner=manager, name="Lua Seguros", segment="insurance", is_active=False)
        EngagementFactory(client=b, phase=Phase.RENEWAL)
        client.force_login(manager)

        def names(**params):
            return [
                row.name
                for row in client.get(reverse("clients:list"), params).context["page"].object_list
            ]

        assert names(q="sol") == [a.name, b.name]
        assert names(segment="telecom") == [b.name]
        assert names(phase="renewal") == [b.name]
        assert names() == [a.name, b.name]
        assert names(status="archived") == [c.name]
        assert names(status="all", ordering="-name") == [b.name, c.name, a.name]

    def test_an_htmx_filter_returns_only_the_results(self, client, manager):
        ClientFactory(owner=manager, name="Banco Sol")
        client.force_login(manager)
        body = client.get(reverse("clients:list"), {"q": "sol"}, **HTMX).content.decode()
        assert "Banco Sol" in body
        assert "<html" not in body

    def test_an_empty_portfolio_says_what_to_do(self, client, manager):
        client.force_login(manager)
        assert "Add your first client" in client.get(reverse("clients:list")).content.decode()

    def test_no_match_offers_to_clear_the_filters(self, client, manager):
        ClientFactory(owner=manager)
        client.force_login(manager)
        assert (
            "Clear the filters"
            in client.get(reverse("clients:list"), {"q": "zzz"}).content.decode()
        )

    @pytest.mark.parametrize("viewer", ["manager", "director"])
    def test_the_list_runs_the_same_queries_for_5_and_50_rows(
        self, client, manager, viewer, count_queries
    ):
        user = manager if viewer == "manager" else DirectorFactory()
        client.force_login(user)

        def queries(n: int) -> int:
            Client.objects.all().delete()
            for i in range(n):
                target = ClientFactory(owner=manager, name=f"C{n}-{i}")
                EngagementFactory(client=target)
            with count_queries() as captured:
                assert client.get(reverse("clients:list"), {"page_size": 50}).status_code == 200
            return captured.count

        assert queries(5) == queries(50)

    def test_the_client_page_runs_the_same_queries_for_few_and_many_rows(
        self, client, manager, count_queries
    ):
        client.force_login(manager)

        def queries(n: int) -> int:
            target = ClientFactory(owner=manager)
            for i in range(n):
                engagement = EngagementFactory(client=target)
                Stakeholder.objects.create(client=target, name=f"P{i}", influence=3)
                TimelineEntry.objects.create(
                    client=target,
                    engagement=engagement,
                    kind="note",
                    occurred_on=date(2026, 1, 1),
                    title=f"T{i}",
                    author=manager,
                )
            with count_queries() as captured:
                assert client.get(reverse("clients:detail", args=[target.pk])).status_code == 200
            return captured.count

        assert queries(2) == queries(20)


def test_the_client_page_shows_an_engagements_phase_history(client, manager):
    engagement = EngagementFactory(client=ClientFactory(owner=manager), phase=Phase.CONTRACTING)
    from clients.services import engagement_update

    engagement_update(engagement=engagement, by=manager, phase=Phase.TRANSITION)
    engagement_update(engagement=engagement, by=manager, phase=Phase.OPERATION)
    client.force_login(manager)
    page = client.get(reverse("clients:detail", args=[engagement.client.pk])).content.decode()
    assert "Phase history" in page
    assert "Contracting → Transition (Ana" in page
    assert "Transition → Operation (Ana" in page


def test_an_unknown_status_or_order_falls_back_to_active_clients_by_name(client, manager):
    ClientFactory(owner=manager, name="Zeta")
    ClientFactory(owner=manager, name="Alfa")
    ClientFactory(owner=manager, name="Arquivado", is_active=False)
    client.force_login(manager)
    response = client.get(reverse("clients:list"), {"status": "zzz", "ordering": "nonsense"})
    assert [c.name for c in response.context["page"].object_list] == ["Alfa", "Zeta"]
