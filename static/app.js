// Send the CSRF token with every htmx request (Flask-WTF reads X-CSRFToken).
// No inline scripts anywhere: this file is the page's only script besides htmx.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// With JavaScript on, buttons that exist only for no-JS use can hide.
document.documentElement.classList.add("js");

// Copy buttons: <button data-copy="#field-id">; says "Copied" for a moment.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-copy"));
  if (!field) return;
  var text = field.value || field.textContent;
  var done = function () {
    var original = button.textContent;
    button.textContent = "Copied";
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (status) status.textContent = "Copied to the clipboard.";
    setTimeout(function () { button.textContent = original; }, 2000);
  };
  var failed = function () {
    field.select();
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (status) status.textContent = "Copying was not allowed: the address is selected, press Ctrl+C (or Cmd+C).";
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, failed);
  } else {
    field.select();
    document.execCommand("copy");
    done();
  }
});

// A row swapped in by htmx after an error keeps the page's flash area current.
document.addEventListener("htmx:responseError", function (event) {
  var flashes = document.getElementById("flashes");
  if (flashes) {
    flashes.innerHTML = '<p class="flash flash-error">The action failed (' +
      event.detail.xhr.status + '). Reload the page and try again.</p>';
  }
});

// "Find a member": <button data-append-to="#field" data-value="@name"> adds the value
// to the field (once), then clears the search. Without JavaScript, type @username.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-append-to]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-append-to"));
  if (!field) return;
  var value = button.getAttribute("data-value");
  var entries = field.value.split(/[\s,;]+/).filter(Boolean);
  if (entries.indexOf(value) === -1) {
    entries.push(value);
    field.value = entries.join(", ");
  }
  var results = button.closest("[id$='-results']");
  if (results) results.innerHTML = "";
  var search = document.getElementById("person-search");
  if (search) search.value = "";
  field.focus();
});

// Forms marked data-autosubmit (the email preview's HTML frame) submit as soon as they
// appear, on page load or when htmx swaps them in; without JavaScript, their button.
function autosubmit(root) {
  root.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
}
document.addEventListener("DOMContentLoaded", function () { autosubmit(document); });
document.addEventListener("htmx:load", function (event) {
  if (event.detail.elt !== document.body) autosubmit(event.detail.elt);
});

// Registration: the browser's time zone goes in the hidden time_zone field, so dates show
// in it from the first page. Without JavaScript it stays empty and the account gets UTC.
document.addEventListener("DOMContentLoaded", function () {
  var field = document.querySelector('input[type="hidden"][name="time_zone"]');
  if (!field || field.value) return;
  try {
    field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) { /* an old browser: UTC */ }
});

// In-page confirmations (seed 000). An element with hx-post and data-confirm asks in a
// <dialog> before htmx sends: data-confirm-title is the heading, data-confirm the
// explanation, data-confirm-button names the button that acts ("Accept", "Cancel
// invitation"...), data-confirm-keep the one that does nothing (default "Keep"). Focus
// starts on "Keep"; Escape or "Keep" closes it and puts focus back on the row's button.
// Without JavaScript the same form posts without confirmed=yes and the server answers
// its own confirm page (confirm_first).
var confirmDialog = null;

function buildConfirmDialog() {
  var dialog = document.createElement("dialog");
  dialog.id = "confirm-dialog";
  dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
  dialog.setAttribute("aria-describedby", "confirm-dialog-message");
  dialog.innerHTML =
    '<article><h2 id="confirm-dialog-title"></h2><p id="confirm-dialog-message"></p>' +
    '<footer><button type="button" class="secondary" data-confirm-role="keep"></button>' +
    '<button type="button" data-confirm-role="go"></button></footer></article>';
  document.body.appendChild(dialog);
  var state = { dialog: dialog, pending: null, returnTo: null, rowId: null };
  dialog.querySelector('[data-confirm-role="keep"]').addEventListener("click", function () {
    dialog.close("keep");
  });
  dialog.querySelector('[data-confirm-role="go"]').addEventListener("click", function () {
    var pending = state.pending;
    state.pending = null;
    dialog.close("go");
    if (pending) pending();
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close("keep");  // a click on the backdrop
  });
  dialog.addEventListener("close", function () {
    // "close" fires a moment after closing: if the dialog was opened again meanwhile (a
    // quick Escape, then Enter), this event belongs to the earlier question. Ignore it.
    if (dialog.open) return;
    if (dialog.returnValue === "go") return;  // focus follows the row once it is swapped
    state.pending = null;
    if (state.returnTo && document.body.contains(state.returnTo)) state.returnTo.focus();
  });
  return state;
}

document.addEventListener("htmx:confirm", function (event) {
  var elt = event.detail.elt;
  if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-confirm")) return;
  if (typeof HTMLDialogElement !== "function") return;  // no <dialog>: htmx sends as is
  event.preventDefault();
  if (!confirmDialog) confirmDialog = buildConfirmDialog();
  var state = confirmDialog;
  var dialog = state.dialog;
  var active = document.activeElement;
  if (active && (active === elt || elt.contains(active))) state.returnTo = active;
  else state.returnTo = elt.matches("button") ? elt : elt.querySelector("button");
  var row = elt.closest("tr[id]");
  state.rowId = row ? row.id : null;
  state.listOf = row ? row.parentElement.closest("[id]") : null;
  dialog.querySelector("#confirm-dialog-title").textContent =
    elt.getAttribute("data-confirm-title") || elt.getAttribute("data-confirm");
  var message = dialog.querySelector("#confirm-dialog-message");
  message.textContent = elt.getAttribute("data-confirm-title") ? elt.getAttribute("data-confirm") : "";
  message.hidden = !message.textContent;
  var keep = dialog.querySelector('[data-confirm-role="keep"]');
  keep.textContent = elt.getAttribute("data-confirm-keep") || "Keep";
  dialog.querySelector('[data-confirm-role="go"]').textContent =
    elt.getAttribute("data-confirm-button") || "Confirm";
  state.pending = function () {
    event.detail.issueRequest(true);
  };
  dialog.returnValue = "";
  dialog.showModal();
  keep.focus();
});

// After a confirmed action swaps its row, focus goes to the new row's first button (or
// to the list, when the row went away), not to the top of the page.
document.addEventListener("htmx:afterSettle", function () {
  var state = confirmDialog;
  if (!state || !state.rowId || state.dialog.returnValue !== "go") return;
  var rowId = state.rowId;
  state.rowId = null;
  if (document.activeElement && document.activeElement !== document.body) return;
  var row = document.getElementById(rowId);
  var target = row ? row.querySelector("button, a[href], select") || row : null;
  if (!target) target = state.listOf || document.getElementById("main");
  if (!target) return;
  if (!target.matches("button, a[href], select")) target.setAttribute("tabindex", "-1");
  target.focus();
});
