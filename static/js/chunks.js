// A document's chunk browser: ticking chunks for the bulk delete, focus while editing in
// place, and Ctrl+Enter to save. htmx makes every request; this only wires up the browser
// parts. Listeners sit on document, so cards and lists that htmx swaps in later work too.
(function () {
  "use strict";

  // --- selection and the bulk delete ---------------------------------------------------------

  function boxes() {
    return document.querySelectorAll('#chunk-list input[name="ids"]');
  }

  function updateSelection() {
    var form = document.getElementById("chunk-bulk-form");
    if (!form) return;
    var all = boxes();
    var checked = 0;
    for (var i = 0; i < all.length; i++) if (all[i].checked) checked++;
    form.querySelector("[data-selection-count]").textContent = checked
      ? form.dataset.selected.replace("%(count)s", checked)
      : form.dataset.noneSelected;
    form.querySelector("button[type=submit]").disabled = !checked;
    form.classList.toggle("has-selection", checked > 0);
    var master = form.querySelector("[data-select-all-chunks]");
    master.disabled = !all.length;
    master.checked = checked > 0 && checked === all.length;
    master.indeterminate = checked > 0 && checked < all.length;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all-chunks]")) {
      var all = boxes();
      for (var i = 0; i < all.length; i++) all[i].checked = event.target.checked;
    }
    if (event.target.matches("[data-select-all-chunks], #chunk-list input[name='ids']")) {
      updateSelection();
    }
  });
  document.addEventListener("htmx:afterSettle", updateSelection);
  document.addEventListener("DOMContentLoaded", updateSelection);

  // --- editing in place ----------------------------------------------------------------------

  // The edit form replaces its card: start typing right away. Saving or cancelling brings the
  // card back: focus returns to its Edit button, where the keyboard user left from. A switch
  // redrawn by its answer puts focus on the new switch.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var card = target && target.id && document.getElementById(target.id);
    if (!card || !card.classList.contains("chunk")) return;
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (card.classList.contains("is-editing")) {
      var invalid = card.querySelector("[aria-invalid=true]");
      (invalid || card.querySelector("textarea")).focus();
    } else if (from && from.closest(".chunk-form")) {
      var edit = document.getElementById(card.id + "-edit");
      if (edit) edit.focus();
    } else if (from && from.classList.contains("chunk__switch")) {
      card.querySelector(".switch").focus();
    }
  });

  // Ctrl+Enter (⌘+Enter on a Mac) in a chunk's text saves or adds it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest(".chunk-form");
    if (!form) return;
    event.preventDefault();
    form.requestSubmit();
  });
})();
