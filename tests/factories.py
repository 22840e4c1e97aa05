"""factory_boy factories for every model the tests create."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Role, User
from clients.models import Client, Country, Engagement, ProcessType, Segment, Size

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.ACCOUNT_MANAGER
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class AccountManagerFactory(UserFactory):
    role = Role.ACCOUNT_MANAGER


class DirectorFactory(UserFactory):
    role = Role.DIRECTOR


class AdministratorFactory(UserFactory):
    role = Role.ADMINISTRATOR
    is_staff = True


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Cliente {n} S.A.")
    segment = Segment.BANKING
    size = Size.LARGE
    country = Country.BRAZIL
    owner = factory.SubFactory(AccountManagerFactory)


class EngagementFactory(factory.django.DjangoModelFactory[Engagement]):
    class Meta:
        model = Engagement

    client = factory.SubFactory(ClientFactory)
    process_type = ProcessType.COLLECTIONS


# Imported here rather than at the top so the factories above stay as they were written.
from datetime import date  # noqa: E402

from clients.models import (  # noqa: E402
    EntryKind,
    Outcome,
    PastExperience,
    Stakeholder,
    TimelineEntry,
    WentWrong,
)


class StakeholderFactory(factory.django.DjangoModelFactory[Stakeholder]):
    class Meta:
        model = Stakeholder

    client = factory.SubFactory(ClientFactory)
    name = factory.Faker("name")
    role = "Head of Operations"


class PastExperienceFactory(factory.django.DjangoModelFactory[PastExperience]):
    class Meta:
        model = PastExperience

    client = factory.SubFactory(ClientFactory)
    supplier = factory.Sequence(lambda n: f"Supplier {n} Ltda.")
    process_type = ProcessType.COLLECTIONS
    outcome = Outcome.MIXED
    went_wrong = factory.LazyFunction(lambda: [WentWrong.MONEY.value])
    severity = 3


def clients_created(owner: User, *names: str) -> list[Client]:
    """Clients of ``owner`` made through the service, as a user makes them — with their
    ``client.created`` events recorded, which a factory's rows have not."""
    from clients.services import client_create

    return [
        client_create(
            by=owner, name=name, owner=owner, segment="retail", size="large", country="BR"
        )
        for name in names
    ]


def bad_experiences(client, *severities_and_ends) -> list[PastExperience]:
    """Failed collections with earlier suppliers, one per (severity, ended_on) pair (None:
    still going on): what a submit weighs the defensiveness with."""
    return [
        PastExperienceFactory(
            client=client,
            supplier=f"S{severity}",
            outcome=Outcome.FAILURE,
            went_wrong=[],
            severity=severity,
            ended_on=ended,
        )
        for severity, ended in severities_and_ends
    ]


class TimelineEntryFactory(factory.django.DjangoModelFactory[TimelineEntry]):
    class Meta:
        model = TimelineEntry

    client = factory.SubFactory(ClientFactory)
    kind = EntryKind.NOTE
    occurred_on = factory.LazyFunction(date.today)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    # Whoever owns the client wrote it, unless the test says otherwise.
    author = factory.LazyAttribute(lambda entry: entry.client.owner)


def published_default_version():
    """The default questionnaire's current version (loaded by migrate)."""
    from assessments.selectors import default_questionnaire

    questionnaire = default_questionnaire()
    assert questionnaire is not None
    version = questionnaire.current_version()
    assert version is not None
    return version


def answer_everything(assessment, *, level: int = 4):
    """Answer every question of an assessment's version plausibly (for submit tests)."""
    from assessments.selectors import questions_by_id
    from assessments.services import AnswerInput, answers_save

    inputs = []
    for question in questions_by_id(assessment.version).values():
        value: object
        if question.type == "scale":
            value = level
        elif question.type == "choice":
            value = question.options[-1]["code"]
        elif question.type == "yes_no":
            value = True
        elif question.type == "number":
            value = question.min_value
        else:
            value = "A note."
        inputs.append(AnswerInput(question=question.pk, value=value))
    return answers_save(assessment=assessment, by=assessment.assessor, answers=inputs)


def submitted_assessment(engagement, *, level: int = 2, by=None):
    """An assessment of ``engagement`` answered at ``level`` everywhere and submitted."""
    from assessments.services import assessment_start, assessment_submit

    assessor = by or engagement.client.owner
    assessment, _created = assessment_start(engagement=engagement, by=assessor)
    answer_everything(assessment, level=level)
    return assessment_submit(assessment=assessment, by=assessor)


from education.models import EducationAction  # noqa: E402


class EducationActionFactory(factory.django.DjangoModelFactory[EducationAction]):
    class Meta:
        model = EducationAction

    engagement = factory.SubFactory(EngagementFactory)
    client = factory.LazyAttribute(lambda action: action.engagement.client)
    owner = factory.LazyAttribute(lambda action: action.engagement.client.owner)
    action_type = "workshop"
    title = factory.Sequence(lambda n: f"Workshop {n}")
    due_date = factory.LazyFunction(lambda: date.today())


from django.db.models import Q  # noqa: E402

from education.models import Delivery, DeliveryState  # noqa: E402


def emailed(state: str = DeliveryState.SENT) -> Q:
    """Notifications whose e-mail delivery is in ``state`` (one filter() call: same row)."""
    return Q(deliveries__channel="email", deliveries__state=state)


def email_of(notification) -> Delivery | None:
    """The notification's e-mail delivery; None when it has none (no address)."""
    return Delivery.objects.filter(notification=notification, channel="email").first()


def all_emailed() -> bool:
    """Every notification has an e-mail delivery, and every one was sent."""
    from education.models import Notification

    deliveries = Delivery.objects.filter(channel="email")
    return (
        not deliveries.exclude(state=DeliveryState.SENT).exists()
        and deliveries.count() == Notification.objects.count()
    )
