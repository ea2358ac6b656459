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
