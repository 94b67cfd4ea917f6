// Copy-to-clipboard for [data-copy] buttons, select-on-focus for read-only fields, and the
// values of sliders.
// Listeners sit on document, so they also work for content htmx swaps in later.
(function () {
  "use strict";

  function textOf(element) {
    return element.matches("input, textarea") ? element.value : element.textContent.trim();
  }

  function selectAll(element) {
    if (element.matches("input, textarea")) {
      element.focus();
      element.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function flash(button, label) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = label;
    clearTimeout(button._resetTimer);
    button._resetTimer = setTimeout(function () {
      button.textContent = button.dataset.label;
    }, 2000);
  }

  // navigator.clipboard exists only in secure contexts (https or localhost); a server reached
  // over plain http on a LAN falls back to selecting the text and execCommand("copy").
  function copy(element) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(textOf(element));
    }
    selectAll(element);
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    if (!source) return;
    copy(source).then(
      function () { flash(button, button.dataset.copiedLabel || "Copied"); },
      function () { selectAll(source); flash(button, button.dataset.failedLabel || "Ctrl+C"); }
    );
  });

  // htmx swaps nothing when a request fails, which would leave a click with no visible effect.
  function reportFailure(messageKey) {
    var box = document.getElementById("request-errors");
    if (!box) return;
    var note = document.createElement("p");
    note.className = "alert alert--error";
    note.textContent = document.body.dataset[messageKey];
    box.replaceChildren(note);
  }
  document.addEventListener("htmx:responseError", function () { reportFailure("requestFailed"); });
  document.addEventListener("htmx:sendError", function () { reportFailure("networkFailed"); });
  document.addEventListener("htmx:beforeRequest", function (event) {
    // Background requests (polling) must not wipe an error the user has yet to read.
    if (event.detail.elt.hasAttribute("data-background-request")) return;
    var box = document.getElementById("request-errors");
    if (box) box.replaceChildren();
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // Sliders show their value in the <output data-range-output="<slider id>"> next to them.
  function showValue(input) {
    var output = document.querySelector('output[data-range-output="' + input.id + '"]');
    if (output) output.textContent = Number(input.value).toFixed(2);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("input[type=range]")) showValue(event.target);
  });
  // Back/forward can restore a form with other values than the page was drawn with.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("input[type=range]").forEach(showValue);
  });
})();
