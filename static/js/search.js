// The Search page: when the results that htmx swapped in ask for a summary, stream it in over
// server-sent events (the format of POST /api/v1/searches/{id}/completions). While it streams,
// the text goes in through textContent (citation markers dropped); when it ends, the server's
// rendered and sanitized HTML of the whole summary replaces it.
(function () {
  "use strict";

  var CITATION = /\s*\[ID:\d+\]/g;
  var source = null;

  function stop() {
    if (source) source.close();
    source = null;
  }

  function summarise(root) {
    stop();
    var box = root.querySelector("[data-summary-url]");
    if (!box) return;
    var text = box.querySelector("[data-summary-text]");
    var panel = document.getElementById("search-panel");
    var written = "";
    var started = false;
    box.classList.add("is-streaming");
    source = new EventSource(box.dataset.summaryUrl);
    var mine = source;
    source.onmessage = function (event) {
      if (mine !== source) return;
      var payload;
      try { payload = JSON.parse(event.data); } catch (error) { return; }
      if (payload.data === true) { // the terminator
        box.classList.remove("is-streaming");
        stop();
        return;
      }
      if (payload.code !== 0) {
        box.classList.add("is-error");
        text.textContent = (panel.dataset.summaryError || "") + " " + payload.message;
        return;
      }
      var data = payload.data || {};
      if (data.final) {
        box.classList.add("is-done");
        // The whole summary, Markdown rendered and sanitized by the server (ragsite/markdown.py).
        if (typeof data.html === "string" && data.html) text.innerHTML = data.html;
        // Where the summary comes from: the documents of its reference.
        var sources = box.querySelector("[data-summary-sources]");
        var names = ((data.reference || {}).doc_aggs || []).map(function (agg) { return agg.doc_name; });
        if (sources && names.length) {
          sources.textContent = sources.dataset.label + " " + names.join(", ");
          sources.hidden = false;
        }
        return;
      }
      if (!started) { started = true; text.textContent = ""; }
      written += String(data.answer || "");
      text.textContent = written.replace(CITATION, "");
    };
    source.onerror = function () {
      // EventSource would reconnect and ask again: a finished or broken stream is not retried.
      if (mine === source) { box.classList.remove("is-streaming"); stop(); }
    };
  }

  // A related question is searched as if typed.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("#search-results [data-ask]");
    if (!button) return;
    var box = document.getElementById("search-question");
    box.value = button.getAttribute("data-ask");
    box.focus();
    if (window.htmx) window.htmx.trigger(document.getElementById("search-form"), "submit");
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "search-results") summarise(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var results = document.getElementById("search-results");
    if (results) summarise(results);
  });
})();
