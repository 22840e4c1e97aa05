"""People's words for the engine's codes: levels and quadrants, in the user's language."""

from django.utils.translation import gettext_lazy as _

LEVELS = {
    1: _("Initial"),
    2: _("Developing"),
    3: _("Defined"),
    4: _("Managed"),
    5: _("Strategic partner"),
}

QUADRANTS = {
    "guarded_novice": _("Guarded novice"),
    "open_novice": _("Open novice"),
    "demanding_expert": _("Demanding expert"),
    "strategic_partner": _("Collaborative expert"),
}

QUADRANT_HINTS = {
    "guarded_novice": _(
        "Knows little about what it buys and distrusts suppliers: start with the causes of "
        "its defensiveness and with basics, shown with evidence."
    ),
    "open_novice": _(
        "Knows little but is open: the best moment to teach the process and agree on how "
        "results will be read."
    ),
    "demanding_expert": _(
        "Knows what it buys and guards itself: argue with data, business reviews and "
        "positions taken at the right weight."
    ),
    "strategic_partner": _(
        "Knows what it buys and trusts: plan improvements together and share what is learnt "
        "about its end customers."
    ),
}
