"""The pieces of the fill page that an autosave redraws, in one home.

The page's template draws them through the ``fill`` template tags; an autosave's response
is made of them directly (``saved``), out of band for htmx, without the template engine:
drawing the same fragments through it took about 0.2 ms of an autosave of about 2.5 ms,
more than any other part of the view's own work. Ids and counts are written as they are,
never through the locale's number format (htmx finds the elements by these ids).
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

_OOB = mark_safe(' hx-swap-oob="outerHTML"')


def _oob(oob: bool) -> SafeString | str:
    return _OOB if oob else ""


def revision_input(item: dict[str, Any], oob: bool = False) -> SafeString:
    """The question's revision, in its form: the next save is checked against it."""
    return format_html(
        '<input type="hidden" name="revision" id="revision-{}" value="{}"{}>',
        item["question"].pk,
        item["revision"],
        _oob(oob),
    )


# The status's texts for the page's script, by language: the same on every status
# element, drawn once per language per process.
_SCRIPT_TEXTS: dict[str | None, SafeString] = {}


def _script_texts() -> SafeString:
    language = get_language()
    texts = _SCRIPT_TEXTS.get(language)
    if texts is None:
        texts = _SCRIPT_TEXTS[language] = format_html(
            ' data-saving="{}" data-failed="{}" data-expired="{}"',
            _("Saving…"),
            # The script puts the seconds in place of %s; written %%s, as the page's
            # template wrote it (the catalogue's entry is the template's).
            _("Not saved yet — retrying in %%s s. Keep working: nothing typed is lost.").replace(
                "%%", "%"
            ),
            _(
                "Your session has expired: log in again in another tab; this answer is "
                "saved as soon as you are back."
            ),
        )
    return texts


def status(item: dict[str, Any], oob: bool = False) -> SafeString:
    """Under a question: saved, or why not. The page's script writes its own states
    (saving, retrying, session expired) from the texts this element carries."""
    error, saved = item["error"], item["saved"]
    return format_html(
        '<p id="status-{}" role="status" class="save-status{}"{}{}>{}</p>',
        item["question"].pk,
        " save-failed" if error else " save-ok" if saved else "",
        _oob(oob),
        _script_texts(),
        error or (format_html("{} ✓", _("Saved")) if saved else ""),
    )


def missing_note(item: dict[str, Any], section: dict[str, Any], oob: bool = False) -> SafeString:
    """After a refused submit: whether this question still needs an answer."""
    pk = item["question"].pk
    return format_html(
        '<p id="missing-{}" class="missing-note"{}>{}</p>',
        pk,
        _oob(oob),
        _("Needed before submitting: answer it, or mark it not applicable.")
        if pk in section["missing"]
        else "",
    )


def progress(progress: dict[str, Any], checking: bool, oob: bool = False) -> SafeString:
    """The sticky bar: how many are answered, and after a refused submit how many
    required ones are left and where the next is."""
    refusal: SafeString | str = ""
    if checking and progress["missing"]:
        first = progress["first_missing"]
        refusal = format_html(
            '<p class="refusal" role="{}"><strong>{}</strong> <a href="?section={}&amp;'
            'missing=1#question-{}" class="next-missing">{}</a></p>',
            "status" if oob else "alert",
            ngettext(
                "Not submitted: %(n)s required question still needs an answer.",
                "Not submitted: %(n)s required questions still need an answer.",
                progress["missing"],
            )
            % {"n": progress["missing"]},
            first["section"],
            first["question"],
            _("Go to the next one"),
        )
    elif checking:
        refusal = format_html(
            '<p class="refusal-done" role="status">{} <a href="#submit">{}</a></p>',
            _("Every required question has an answer: you can submit now."),
            _("Go to submit"),
        )
    return format_html(
        '<div id="progress" class="progress"{}><div class="progress-line"><progress '
        'value="{}" max="{}" aria-label="{}"></progress><small>{}</small></div>{}</div>',
        _oob(oob),
        progress["done"],
        progress["total"],
        _("Progress"),
        _("%(done)s of %(total)s answered (%(percent)s%%)")
        % {"done": progress["done"], "total": progress["total"], "percent": progress["percent"]},
        refusal,
    )


def section_count(section: dict[str, Any], checking: bool, oob: bool = False) -> SafeString:
    """Beside a section's name: answered of total, and after a refused submit how many
    required ones it still lacks."""
    missing = len(section["missing"])
    return format_html(
        '<small class="muted" id="section-count-{}"{}>{}/{}{}</small>',
        section["dimension"].pk,
        _oob(oob),
        section["done"],
        section["total"],
        format_html(
            ' · <span class="missing-count">{}</span>',
            ngettext("%(n)s missing", "%(n)s missing", missing) % {"n": missing},
        )
        if checking and missing
        else "",
    )


def saved(
    item: dict[str, Any], progress_: dict[str, Any], section: dict[str, Any], checking: bool
) -> SafeString:
    """An autosave's response: every fragment it changes, each swapped out of band."""
    parts = [revision_input(item, oob=True), status(item, oob=True)]
    if checking:
        parts.append(missing_note(item, section, oob=True))
    parts += [progress(progress_, checking, oob=True), section_count(section, checking, oob=True)]
    return SafeString("\n".join(parts))
