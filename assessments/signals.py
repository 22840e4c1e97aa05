"""Signals the assessments app sends, so later capabilities can react without the
assessment services knowing about them."""

from django.dispatch import Signal

# Sent by assessment_submit (and an import) inside its transaction, after the result is
# stored, with ``assessment`` and ``by``. Receivers write in the same transaction (an
# outbox), so what they record cannot be lost if the submit commits, nor kept if it rolls
# back. ``engagement_held`` (default False): the transaction already holds the
# assessment's engagement and client locked (lock_for_write's ``holding_engagement``).
assessment_submitted = Signal()

# Sent by assessment_review inside its transaction, after the new status is stored, with
# ``assessment``, ``by``, ``approved`` and ``engagement_held`` (as above).
assessment_reviewed = Signal()

# Sent by version_publish inside its transaction, with ``version`` (now published).
version_published = Signal()
