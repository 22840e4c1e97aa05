from __future__ import annotations

from typing import IO, Any, cast

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser


class SafeJSONParser(JSONParser):
    """JSON whose nesting exhausts Python's recursion (a few thousand levels) is a bad
    request, not a server error."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None


class _PartCounter:
    """Reads through a multipart body, counting the parts it announces: each delimiter
    (``--boundary`` at a line's start) that is not the closing ``--boundary--``. A
    part's content cannot hold its delimiter, so this counts parts, whatever they hold."""

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self.stream = stream
        delimiter = b"\r\n--" + boundary
        self.patterns = {"delimiters": delimiter, "closings": delimiter + b"--"}
        self.counts = dict.fromkeys(self.patterns, 0)
        # The body's start is a line's start: as if a line break came before it.
        self.tails = dict.fromkeys(self.patterns, b"\r\n")

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.stream.read(size)
        for name, pattern in self.patterns.items():
            # A pattern split between two reads is found in the tail kept from the last.
            window = self.tails[name] + chunk
            self.counts[name] += window.count(pattern)
            self.tails[name] = window[-(len(pattern) - 1) :]
        return chunk

    @property
    def parts(self) -> int:
        return self.counts["delimiters"] - self.counts["closings"]


class StrictMultiPartParser(MultiPartParser):
    """A multipart body with a part Django's parser could not read is a bad request.
    Django drops a malformed part without a word — an empty part with no line break
    before the next boundary, as some clients encode one — so a call that sent ``ids``
    read as one that did not, which ``POST /notifications/read/`` takes as "all of them"
    (Schemathesis found it). A body with no part is still an empty one."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles:
        _type, parameters = parse_header_parameters(media_type or "")
        boundary = parameters.get("boundary", "")
        if not boundary:  # Django's parser refuses it, in its words
            return super().parse(stream, media_type, parser_context)
        counter = _PartCounter(stream, boundary.encode("ascii", "replace"))
        parsed = super().parse(cast(IO[Any], counter), media_type, parser_context)
        read = sum(len(values) for _name, values in parsed.data.lists())
        read += sum(len(values) for _name, values in parsed.files.lists())
        if read < counter.parts:
            raise ParseError(_("A part of the multipart body could not be read."))
        return parsed
