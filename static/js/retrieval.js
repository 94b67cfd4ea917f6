// Retrieval testing (ragsite.js shows the sliders' values): a changed setting searches
// again once there is a question, and Enter in the question box searches (Shift+Enter for a
// new line). htmx sends the form and swaps the results.
(function () {
  "use strict";

  var rerun = 0;
  document.addEventListener("change", function (event) {
    if (!event.target.closest("#retrieval-controls")) return;
    var form = event.target.form;
    if (!form.elements.question.value.trim()) return;
    clearTimeout(rerun);
    rerun = setTimeout(function () {
      if (!form.checkValidity()) return form.reportValidity();
      form.dataset.rerun = "1";
      form.requestSubmit();
    }, 250);
  });

  // On a phone the results are below the form: after a search asked for by Enter or the
  // button, bring them into view. A rerun after moving a slider leaves the reader there.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "retrieval-results") return;
    var form = document.getElementById("retrieval-form");
    var wasRerun = form.dataset.rerun;
    delete form.dataset.rerun;
    var panel = document.getElementById("retrieval-panel");
    if (wasRerun || panel.getBoundingClientRect().top < window.innerHeight * 0.6) return;
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    panel.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!event.target.matches("#retrieval-question")) return;
    event.preventDefault();
    event.target.form.requestSubmit();
  });
})();
