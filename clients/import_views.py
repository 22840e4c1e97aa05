"""The directors' client import page and its template CSV.

Kept apart from ``clients.views`` because it is its own small feature; the work itself is
in ``clients.importing``, shared with ``manage.py import_clients``.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import DIRECTORS, role_required
from accounts.models import User
from clients.importing import (
    COLUMNS,
    EXAMPLE_ROW,
    MAX_BYTES,
    MAX_ROWS,
    RowError,
    import_clients,
    read_at_most,
    template_csv,
)
from clients.models import Country, Segment, Size

# Enough to fix a file in one pass; a file with more problems than this is usually wrong
# as a whole (delimiter, wrong export) and a 50,000-row table would not help.
ERRORS_SHOWN = 500


class ClientImportForm(forms.Form):
    """Just the file; what is in it is checked by ``clients.importing``."""

    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@role_required(*DIRECTORS)
@require_http_methods(["GET", "POST"])
def client_import(request: HttpRequest) -> HttpResponse:
    errors: tuple[RowError, ...] = ()
    form = ClientImportForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None and form.is_valid():
        upload = form.cleaned_data["file"]
        # role_required lets only signed-in directors and administrators this far.
        actor = cast(User, request.user)
        result = import_clients(read_at_most(upload), by=actor)
        if result.ok:
            messages.success(
                request,
                ngettext(
                    "%(count)d client imported.", "%(count)d clients imported.", result.created
                )
                % {"count": result.created},
            )
            return redirect("clients:list")
        errors = result.errors
    context = {
        "form": form or ClientImportForm(),
        "errors": errors[:ERRORS_SHOWN],
        "error_count": len(errors),
        "errors_hidden": max(len(errors) - ERRORS_SHOWN, 0),
        "example_header": ",".join(COLUMNS),
        "example_row": ",".join(EXAMPLE_ROW[name] for name in COLUMNS),
        "segment_codes": ", ".join(Segment.values),
        "size_codes": ", ".join(Size.values),
        "country_codes": ", ".join(Country.values),
        "max_megabytes": MAX_BYTES // (1024 * 1024),
        "max_rows": MAX_ROWS,
    }
    return render(request, "clients/import.html", context)


@role_required(*DIRECTORS)
@require_GET
def client_import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="clients-import-template.csv"'
    return response
