// Maturity's small amount of JavaScript: htmx settings and answers that are never lost.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    // Swap 409 (someone else changed the answer) and 422 (not a valid answer) like a
    // success: their body explains the problem on the question itself.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409|422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  });

  // A keystroke that edits a text field (not Tab, arrows or Shift): what makes a question
  // dirty and, after a pause, saves it (the keyup listener below sends the form "edited",
  // its hx-trigger: the Content-Security-Policy lets htmx evaluate no trigger filter).
  window.editing = function (event) {
    var target = event.target;
    return Boolean(
      target.matches &&
        target.matches("textarea, input[type=text], input[type=number]") &&
        (event.key.length === 1 || event.key === "Backspace" || event.key === "Delete")
    );
  };

  // Autosave: a save that fails (network down, server error) is shown on its question and
  // retried with growing pauses until it goes through; leaving the page warns meanwhile.
  var pending = new Set();
  function statusOf(form) {
    return document.getElementById("status-" + form.dataset.question);
  }
  function failed(event) {
    var form = event.detail.elt.closest("form[data-autosave]");
    if (!form) return;
    var tries = Number(form.dataset.tries || 0) + 1;
    form.dataset.tries = tries;
    var seconds = Math.min(30, Math.pow(2, tries));
    pending.add(form);
    var status = statusOf(form);
    var expired = event.detail.xhr && event.detail.xhr.status === 401;
    if (status) {
      status.className = "save-status save-failed";
      status.textContent = expired
        ? status.dataset.expired
        : status.dataset.failed.replace("%s", seconds);
    }
    window.setTimeout(function () { htmx.trigger(form, "retry"); }, seconds * 1000);
  }
  // Ticking "not applicable" asks for its reason first: the save waits for the reason
  // (typed next, in the field that now has the focus) instead of being refused at once.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    var box = config && config.triggeringEvent && config.triggeringEvent.target;
    if (!box || box.name !== "not_applicable" || !box.checked) return;
    var reason = box.form && box.form.querySelector("input[name=na_reason]");
    if (reason && !reason.value.trim()) {
      event.preventDefault();
      pending.add(box.form);
      reason.focus();
    }
  });
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.defaultPrevented) return;
    var form = event.detail.elt.closest && event.detail.elt.closest("form[data-autosave]");
    if (!form) return;
    pending.add(form);
    var status = statusOf(form);
    if (status && !form.dataset.tries) {
      status.className = "save-status save-saving";
      status.textContent = status.dataset.saving;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form[data-autosave]");
    if (form && event.detail.successful) {
      delete form.dataset.tries;
      pending.delete(form);
    }
  });
  // Typing marks its question dirty until its save is done; submitting the assessment
  // first saves what is still dirty, then submits, so the last keystrokes are never left
  // behind by a quick click on "Submit".
  document.addEventListener("keyup", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosave]");
    if (form && window.editing(event)) {
      pending.add(form);
      htmx.trigger(form, "edited");
    }
  });
  document.addEventListener("submit", function (event) {
    var submit = event.target.closest("form.submit-form");
    if (!submit || !pending.size) return;
    event.preventDefault();
    pending.forEach(function (form) { htmx.trigger(form, "retry"); });
    var waited = 0;
    var timer = window.setInterval(function () {
      waited += 200;
      if (!pending.size || waited > 15000) {
        window.clearInterval(timer);
        if (!pending.size) submit.submit();
      }
    }, 200);
  });
  // After a refused submit the page marks the required questions still unanswered: the
  // one named in the address gets the focus, scrolled clear of the sticky progress bar
  // (whose height, which grows with the refusal message, sets the scroll margin).
  function stickyOffset() {
    var bar = document.getElementById("progress");
    if (bar) {
      document.documentElement.style.setProperty("--sticky-offset", bar.offsetHeight + "px");
    }
  }
  function focusMissing() {
    var card = window.location.hash && document.querySelector(window.location.hash);
    if (!card || !card.querySelector(".missing-note:not(:empty)")) return;
    stickyOffset();
    var field = card.querySelector(
      "fieldset input:not([type=hidden]), fieldset select, fieldset textarea"
    );
    if (field) field.focus({ preventScroll: true });
    card.scrollIntoView({ block: "start" });
  }
  window.addEventListener("load", focusMissing);
  window.addEventListener("hashchange", focusMissing);
  document.addEventListener("htmx:afterSettle", stickyOffset);
  window.addEventListener("resize", stickyOffset);

  // A table wider than its box scrolls inside it: the box then takes the keyboard focus
  // (so arrow keys scroll it) and is named after the section it is in.
  function scrollableTables() {
    document.querySelectorAll(".table-scroll, .table-wrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var heading = box.closest("section, article, main");
        heading = heading && heading.querySelector("h1, h2, h3");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
      } else if (!scrolls && box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", scrollableTables);
  document.addEventListener("htmx:afterSettle", scrollableTables);
  window.addEventListener("resize", scrollableTables);

  // Behaviour that used to sit in inline attributes (onchange, onsubmit, onclick), which
  // the Content-Security-Policy forbids: a select that submits its form when changed, a
  // form that asks for confirmation first, a button that prints the page.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-submit-on-change]")) select.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.dataset && form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });

  window.addEventListener("beforeunload", function (event) {
    if (pending.size) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
