"""What the client's voice tells the layers above it, inside the transaction of its cause.

``invitations_issued``: invitations whose link is to be e-mailed — new or resent
(``reminder`` False), or due a reminder before their round closes (``reminder`` True).
The notification machinery (education, above) writes the e-mails to its outbox.

``round_changed``: a round changed in a way its perception gap sees (a respondent said
they were done, it was reconciled or closed — ``closed`` True); the dashboards' standings
follow, and a closed round's gap may call for education (the playbook's gap rules).
"""

from django.dispatch import Signal

invitations_issued = Signal()  # kwargs: invitations (list[Invitation]), reminder (bool)
raters_added = Signal()  # kwargs: raters (list[Rater]) — each is asked to fill a sheet
raters_removed = Signal()  # kwargs: raters (list[Rater]) — sent before they and their sheets go
round_changed = Signal()  # kwargs: round (Round), closed (bool, optional)
