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


class TimelineEntryFactory(factory.django.DjangoModelFactory[TimelineEntry]):
    class Meta:
        model = TimelineEntry

    client = factory.SubFactory(ClientFactory)
    kind = EntryKind.NOTE
    occurred_on = factory.LazyFunction(date.today)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    # Whoever owns the client wrote it, unless the test says otherwise.
    author = factory.LazyAttribute(lambda entry: entry.client.owner)
