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
