"""Locust users for bench/load.py: account managers filling assessments, one answer at a
time, and submitting them — half in the browser (login form, CSRF, the htmx autosave
endpoint, the submit form), half through the API with a token.

Each simulated user is one of the accounts bench/load.py made (``LOAD_USERS_FILE``, a JSON
list): its own login, its own token and its own engagements — the clients whose team it
was put on, which no other simulated user sees — so two users never write the same draft
and a 409 can only be the product's fault. Each user in turn picks one of its engagements,
starts (or resumes) a draft, answers every question with a pause of 0.5–2 s between
answers (now and then changing its mind on the one just given, with the revision it got
back), submits, looks at the result and sometimes at another page, and starts again.

Every step is one locust task and the pause before the next is the user's ``wait_time``,
so ``--stop-timeout`` stops users between requests, never inside one. Requests are named
by endpoint pattern (``POST /assessments/[id]/answers/[q]/``) for per-endpoint figures.

Run by bench/load.py; by hand (against a server seeded the same way):

    LOAD_USERS_FILE=users.json .venv/bin/locust -f bench/locustfile.py --headless \\
        -u 20 -r 5 -t 60s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import csv
import html
import itertools
import json
import os
import random
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from locust import HttpUser, events, task
from locust.exception import StopUser

# A request slower than this is a failure (the server is hung, not slow).
REQUEST_TIMEOUT = float(os.environ.get("LOAD_REQUEST_TIMEOUT", "60"))
# Think time between two answers, and how often an answer is changed right after.
ANSWER_PAUSE = (0.5, 2.0)
CHANGE_MIND = 0.1
# Kept under gunicorn's keep-alive (5 s): a request sent just as the server closes an
# idle connection fails in the client (RemoteDisconnected), which is no fault of the app.
READ_PAUSE = (1.0, 3.5)

# Every request (start, endpoint, milliseconds, ok) when LOAD_REQUESTS_FILE names a file:
# figures for any slice of the run (after the ramp, one minute…), which locust's own
# CSV files only give cumulatively.
_requests_file = os.environ.get("LOAD_REQUESTS_FILE")
if _requests_file:
    _requests_out = open(_requests_file, "w", newline="", encoding="utf-8")  # noqa: SIM115
    _requests_csv = csv.writer(_requests_out)
    _requests_csv.writerow(["start", "name", "ms", "ok"])

    @events.request.add_listener
    def _record(
        name: str,
        response_time: float,
        exception: BaseException | None,
        start_time: float = 0.0,
        **kwargs: Any,
    ) -> None:
        _requests_csv.writerow(
            [f"{start_time:.3f}", name, f"{response_time:.1f}", int(not exception)]
        )

    @events.quitting.add_listener
    def _close(**kwargs: Any) -> None:
        _requests_out.close()


_accounts_lock = threading.Lock()
_accounts: Iterator[dict[str, Any]] | None = None


def _next_account() -> dict[str, Any]:
    global _accounts
    with _accounts_lock:
        if _accounts is None:
            with open(os.environ["LOAD_USERS_FILE"], encoding="utf-8") as file:
                _accounts = iter(json.load(file))
        account = next(_accounts, None)
    if account is None:
        raise StopUser("more simulated users than accounts in LOAD_USERS_FILE")
    return account


# --- What to answer -------------------------------------------------------------------------


def api_value(question: dict[str, Any], previous: Any = None) -> Any:
    """A valid answer for a question of the questionnaire-versions structure (another one
    than ``previous`` where the type allows it)."""
    kind = question["type"]
    if kind == "scale":
        choices: list[Any] = [level["value"] for level in question["levels"]] or [1, 2, 3, 4, 5]
    elif kind == "choice":
        choices = [option["code"] for option in question["options"]]
    elif kind == "yes_no":
        choices = [True, False]
    elif kind == "number":
        low = float(question["min_value"] if question["min_value"] is not None else 0)
        high = float(question["max_value"] if question["max_value"] is not None else 100)
        return round(random.uniform(low, high), 1)
    else:
        return f"Load test note {random.randrange(10**6)}."
    others = [choice for choice in choices if choice != previous]
    return random.choice(others or choices)


_QUESTION_CARD = re.compile(r'<article class="question-card[^"]*" id="question-(\d+)"')
_RADIO = re.compile(r'<input type="radio" name="value" value="([^"]*)"')
_NUMBER = re.compile(r'<input type="number"[^>]*name="value" min="([^"]*)" max="([^"]*)"')
_REVISION = re.compile(r'id="revision-(\d+)" value="(\d+)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_SECTION = re.compile(r'<a href="\?section=([^"&]+)"')


def page_questions(page: str) -> list[dict[str, Any]]:
    """The questions of a fill page's section, as the form shows them: id, revision and
    what the value field accepts."""
    starts = [(m.start(), int(m.group(1))) for m in _QUESTION_CARD.finditer(page)]
    questions = []
    for index, (start, pk) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(page)
        card = page[start:end]
        revision = _REVISION.search(card)
        radios = [html.unescape(value) for value in _RADIO.findall(card)]
        number = _NUMBER.search(card)
        if radios:
            field: dict[str, Any] = {"kind": "radio", "choices": radios}
        elif number:
            field = {"kind": "number", "range": (number.group(1), number.group(2))}
        else:
            field = {"kind": "text"}
        questions.append({"id": pk, "revision": int(revision.group(2)) if revision else 0, **field})
    return questions


def form_value(question: dict[str, Any], previous: str | None = None) -> str:
    if question["kind"] == "radio":
        others = [choice for choice in question["choices"] if choice != previous]
        return random.choice(others or question["choices"])
    if question["kind"] == "number":
        low, high = (float(bound or 0) for bound in question["range"])
        return f"{random.uniform(low, high or 100):.1f}"
    return f"Load test note {random.randrange(10**6)}."


# --- The users --------------------------------------------------------------------------------


class Assessor(HttpUser):
    """An account manager filling and submitting assessments; the browser or the API by
    its account's ``mode``."""

    # Every pause is chosen by the step that just ran (see wait_time).
    _pause = 0.0

    def wait_time(self) -> float:
        return self._pause

    def on_start(self) -> None:
        self.account = _next_account()
        self.engagements = itertools.cycle(self.account["engagements"])
        self.flow: BrowserFlow | ApiFlow = (
            BrowserFlow(self) if self.account["mode"] == "browser" else ApiFlow(self)
        )
        self.flow.begin()

    @task
    def step(self) -> None:
        self._pause = self.flow.step()

    def request(
        self,
        method: str,
        url: str,
        name: str,
        expect: tuple[int, ...],
        check: Callable[[Any], str | None] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        """One request named by its endpoint. A status other than ``expect``, or a problem
        ``check`` names, is a failure. Returns the response and whether it succeeded."""
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as resp:
            if resp.status_code in expect:
                problem = check(resp) if check else None
                if problem is None:
                    resp.success()
                    return resp, True
            else:
                body = (resp.text or "")[:160].replace("\n", " ")
                problem = f"HTTP {resp.status_code}: {body}"
            resp.failure(problem)
            return resp, False


def _pause(bounds: tuple[float, float]) -> float:
    return random.uniform(*bounds)


class BrowserFlow:
    """The browser: client page → start → each section's page → an autosave per question
    (htmx) → submit → result page, and now and then the client list or My actions."""

    def __init__(self, user: Assessor) -> None:
        self.user = user
        self.csrf = ""
        self.reset()

    def reset(self) -> None:
        self.assessment = 0
        self.sections: list[str] = []
        self.section = 0
        self.pending: list[dict[str, Any]] = []
        self.state = "start"

    def _csrf_from(self, page: str) -> None:
        found = _CSRF.search(page)
        if found:
            self.csrf = found.group(1)

    def begin(self) -> None:
        user = self.user
        page, ok = user.request("GET", "/accounts/login/", "GET /accounts/login/", (200,))
        if not ok:
            raise StopUser("the login page failed")
        self._csrf_from(page.text)
        data = {
            "csrfmiddlewaretoken": self.csrf,
            "username": user.account["username"],
            "password": user.account["password"],
            "next": "",
        }
        _, ok = user.request(
            "POST",
            "/accounts/login/",
            "POST /accounts/login/",
            (302,),
            data=data,
            allow_redirects=False,
        )
        if not ok:
            raise StopUser("login failed")
        home, ok = user.request("GET", "/", "GET / (home)", (200,))
        if ok:
            self._csrf_from(home.text)

    def step(self) -> float:
        handler: Callable[[], float] = getattr(self, f"_{self.state}")
        return handler()

    def _start(self) -> float:
        user = self.user
        engagement = next(user.engagements)
        page, ok = user.request(
            "GET", f"/clients/{engagement['client']}/", "GET /clients/[id]/", (200,)
        )
        if not ok:
            return _pause(READ_PAUSE)
        self._csrf_from(page.text)

        def to_fill_page(resp: Any) -> str | None:
            location = resp.headers.get("Location", "")
            return None if re.search(r"/assessments/\d+/$", location) else f"to {location}"

        started, ok = user.request(
            "POST",
            f"/engagements/{engagement['id']}/assess/",
            "POST /engagements/[id]/assess/",
            (302,),
            check=to_fill_page,
            data={"csrfmiddlewaretoken": self.csrf},
            allow_redirects=False,
        )
        if not ok:
            return _pause(READ_PAUSE)
        found = re.search(r"/assessments/(\d+)/", started.headers["Location"])
        assert found is not None  # checked above
        self.assessment = int(found.group(1))
        self.state = "open_section"
        return random.uniform(0.5, 1.5)

    def _open_section(self) -> float:
        url = f"/assessments/{self.assessment}/"
        if self.sections:
            url += f"?section={self.sections[self.section]}"

        def has_questions(resp: Any) -> str | None:
            return None if _QUESTION_CARD.search(resp.text) else "no question on the page"

        page, ok = self.user.request(
            "GET", url, "GET /assessments/[id]/ (fill)", (200,), check=has_questions
        )
        if not ok:
            self.reset()
            return _pause(READ_PAUSE)
        self._csrf_from(page.text)
        if not self.sections:
            self.sections = list(dict.fromkeys(_SECTION.findall(page.text)))
        self.pending = page_questions(page.text)
        self.state = "answer"
        return random.uniform(1.0, 2.0)

    def _save(self, question: dict[str, Any], value: str) -> bool:
        """One autosave as htmx sends it; the new revision comes back in the partial."""
        url = f"/assessments/{self.assessment}/answers/{question['id']}/"
        for _attempt in range(2):
            data = {
                "csrfmiddlewaretoken": self.csrf,
                "revision": str(question["revision"]),
                "value": value,
                "note": "",
            }
            headers = {"HX-Request": "true", "X-CSRFToken": self.csrf}
            resp, ok = self.user.request(
                "POST",
                url,
                "POST /assessments/[id]/answers/[q]/ (autosave)",
                (200,),
                data=data,
                headers=headers,
            )
            found = _REVISION.search(resp.text or "")
            if found:
                question["revision"] = int(found.group(2))
            if ok:
                return True
            # A 409 (stale revision) carries the stored revision: answer again on top of
            # it, as the page lets a user do. Counted as a failure all the same: no one
            # else writes this draft, so the product (or this script) is wrong.
            if resp.status_code != 409 or not found:
                return False
        return False

    def _answer(self) -> float:
        if not self.pending:
            self.section += 1
            self.state = "open_section" if self.section < len(self.sections) else "submit"
            return _pause(ANSWER_PAUSE)
        question = self.pending[0]
        value = form_value(question, question.get("given"))
        if self._save(question, value):
            question["given"] = value
        # Now and then the answer just given is changed (a second save on its revision).
        if question.get("changed") or random.random() >= CHANGE_MIND:
            self.pending.pop(0)
        else:
            question["changed"] = True
        return _pause(ANSWER_PAUSE)

    def _submit(self) -> float:
        def to_result(resp: Any) -> str | None:
            # Sent back to the fill page: a required question went unanswered.
            location = resp.headers.get("Location", "")
            return None if location.endswith("/result/") else f"submit refused, to {location}"

        self.user.request(
            "POST",
            f"/assessments/{self.assessment}/submit/",
            "POST /assessments/[id]/submit/",
            (302,),
            check=to_result,
            data={"csrfmiddlewaretoken": self.csrf},
            allow_redirects=False,
        )
        self.state = "result"
        return random.uniform(0.2, 0.5)

    def _result(self) -> float:
        self.user.request(
            "GET",
            f"/assessments/{self.assessment}/result/",
            "GET /assessments/[id]/result/",
            (200,),
        )
        self.reset()
        self.state = "browse"
        return _pause(READ_PAUSE)

    def _browse(self) -> float:
        roll = random.random()
        if roll < 0.3:
            self.user.request("GET", "/clients/", "GET /clients/", (200,))
        elif roll < 0.6:
            self.user.request("GET", "/education/", "GET /education/ (My actions)", (200,))
        self.state = "start"
        return _pause(READ_PAUSE)


class ApiFlow:
    """An integration with a token: start → an answer per request → submit, and now and
    then the assessment or its plan's actions read back."""

    def __init__(self, user: Assessor) -> None:
        self.user = user
        self.headers = {"Authorization": f"Bearer {user.account['token']}"}
        self.structures: dict[int, list[dict[str, Any]]] = {}
        self.reset()

    def reset(self) -> None:
        self.assessment = 0
        self.engagement = 0
        self.pending: list[dict[str, Any]] = []
        self.revisions: dict[int, int] = {}
        self.state = "start"

    def begin(self) -> None:
        pass

    def _call(
        self,
        method: str,
        url: str,
        name: str,
        expect: tuple[int, ...],
        check: Callable[[Any], str | None] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        return self.user.request(method, url, name, expect, check, headers=self.headers, **kwargs)

    def step(self) -> float:
        handler: Callable[[], float] = getattr(self, f"_{self.state}")
        return handler()

    def _questions(self, version: int) -> list[dict[str, Any]] | None:
        """The version's questions, read once per simulated user."""
        if version not in self.structures:
            resp, ok = self._call(
                "GET",
                f"/api/v1/questionnaire-versions/{version}/",
                "GET /api/v1/questionnaire-versions/[id]/",
                (200,),
            )
            if not ok:
                return None
            self.structures[version] = [
                question
                for dimension in resp.json()["dimensions"]
                for question in dimension["questions"]
            ]
        return self.structures[version]

    def _start(self) -> float:
        engagement = next(self.user.engagements)
        resp, ok = self._call(
            "POST",
            "/api/v1/assessments/",
            "POST /api/v1/assessments/",
            (200, 201),
            json={"engagement": engagement["id"]},
        )
        if not ok:
            return _pause(READ_PAUSE)
        body = resp.json()
        questions = self._questions(body["questionnaire_version"])
        if questions is None:
            return _pause(READ_PAUSE)
        self.assessment = body["id"]
        self.engagement = engagement["id"]
        self.revisions = {answer["question"]: answer["revision"] for answer in body["answers"]}
        self.pending = [dict(question) for question in questions]
        self.state = "answer"
        return random.uniform(0.5, 1.5)

    def _save(self, question: dict[str, Any], value: Any) -> bool:
        for _attempt in range(2):
            payload = {
                "question": question["id"],
                "value": value,
                "revision": self.revisions.get(question["id"]),
            }
            resp, ok = self._call(
                "POST",
                f"/api/v1/assessments/{self.assessment}/answers/",
                "POST /api/v1/assessments/[id]/answers/",
                (200,),
                json=payload,
            )
            if ok:
                self.revisions[question["id"]] = resp.json()[0]["revision"]
                return True
            # On a 409 take the stored revision and send the answer again (a failure all
            # the same: no one else writes this draft).
            if resp.status_code != 409:
                return False
            errors = resp.json().get("errors") or [{}]
            self.revisions[question["id"]] = (errors[0].get("current") or {}).get("revision", 0)
        return False

    def _answer(self) -> float:
        if not self.pending:
            self.state = "submit"
            return _pause(ANSWER_PAUSE)
        question = self.pending[0]
        value = api_value(question, question.get("given"))
        if self._save(question, value):
            question["given"] = value
        if question.get("changed") or random.random() >= CHANGE_MIND:
            self.pending.pop(0)
        else:
            question["changed"] = True
        return _pause(ANSWER_PAUSE)

    def _submit(self) -> float:
        def scored(resp: Any) -> str | None:
            return None if resp.json().get("result") is not None else "no result after submit"

        self._call(
            "POST",
            f"/api/v1/assessments/{self.assessment}/submit/",
            "POST /api/v1/assessments/[id]/submit/",
            (200,),
            check=scored,
        )
        self.state = "browse"
        return _pause(READ_PAUSE)

    def _browse(self) -> float:
        roll = random.random()
        if roll < 0.3:
            self._call(
                "GET",
                f"/api/v1/assessments/{self.assessment}/",
                "GET /api/v1/assessments/[id]/",
                (200,),
            )
        elif roll < 0.6:
            self._call(
                "GET",
                f"/api/v1/education-actions/?engagement={self.engagement}",
                "GET /api/v1/education-actions/?engagement=[id]",
                (200,),
            )
        self.reset()
        return _pause(READ_PAUSE)
