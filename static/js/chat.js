// The chat page: ask over a websocket, stream the answer in, then show its citations.
// Untrusted text (questions, answer deltas, names) only ever goes in through textContent;
// rendered answers (the finished one, and now and then the one streaming) come from the
// server already sanitized.
(function () {
  "use strict";

  var CITATION = /\[ID:(\d+)\]/g;
  // The start of a marker cut off at the end of a delta: held back until the rest arrives.
  var PARTIAL_CITATION = /\[(I(D(:\d*)?)?)?$/;

  // --- citations: markers and source numbers toggle the passage panel they control ----------
  function setExpanded(panel, open) {
    panel.hidden = !open;
    document.querySelectorAll('[aria-controls="' + panel.id + '"]').forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".cite__button");
    if (!button) return;
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) return;
    var open = panel.hidden;
    // One passage at a time per answer, so the panel stays next to what was clicked.
    button.closest(".message").querySelectorAll(".citation").forEach(function (other) {
      if (other !== panel && !other.hidden) setExpanded(other, false);
    });
    setExpanded(panel, open);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var cancel = event.target.closest(".session-rename") &&
      event.target.closest(".session-rename").querySelector("[data-rename-cancel]");
    if (cancel) { cancel.click(); return; }
    var message = event.target.closest(".message");
    if (!message) return;
    message.querySelectorAll(".citation").forEach(function (panel) { setExpanded(panel, false); });
  });

  // --- the conversation ----------------------------------------------------------------------------
  var root = document.querySelector("[data-chat]");
  if (!root) return;
  var list = root.querySelector("#messages");
  var form = root.querySelector("#ask-form");
  var input = form.querySelector("textarea");
  var send = form.querySelector("button[type=submit]");
  var status = root.querySelector("#socket-status");
  var text = root.dataset;

  var socket = null;
  var answering = null; // the <li> of the answer being streamed
  var heldBack = ""; // the end of the streamed text that may be the start of a marker
  var retries = 0;
  var finished = false; // a 4401/4404 close: reconnecting would not help
  var liveCount = 0;

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  }

  function keepScrolled(wasNearBottom) {
    if (wasNearBottom) window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function addMessage(role) {
    liveCount += 1;
    var item = element("li", "message message--" + role);
    item.id = "live-" + liveCount;
    item.append(element("span", "visually-hidden", role === "user" ? text.youLabel : text.assistantLabel));
    var bubble = element("div", "message__bubble");
    // Plain text while it streams (white-space: pre-wrap); the final answer replaces it.
    bubble.append(element(role === "user" ? "p" : "div", "message__text"));
    item.append(bubble);
    var stick = nearBottom();
    list.append(item);
    keepScrolled(stick);
    return item;
  }

  function setStatus(message, isError) {
    status.textContent = message || "";
    status.classList.toggle("is-error", Boolean(isError));
  }

  function updateControls() {
    var ready = socket && socket.readyState === WebSocket.OPEN && !answering && !finished;
    input.disabled = !ready;
    send.disabled = !ready;
    form.classList.toggle("is-busy", Boolean(answering));
    list.setAttribute("aria-busy", answering ? "true" : "false");
  }

  // The finished answer as the server renders it (templates/chat/_message.html): Markdown
  // rendered and sanitized by ragsite/markdown.py, markers as buttons, then the sources.
  function swapIn(item, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var rendered = template.content.firstElementChild;
    if (!rendered) return item;
    item.replaceWith(rendered);
    // Its feedback, delete, mind map and related questions are htmx controls.
    if (window.htmx) window.htmx.process(rendered);
    return rendered;
  }

  function renderError(item, message) {
    item.classList.add("message--error");
    item.classList.remove("is-streaming", "is-waiting");
    var bubble = item.querySelector(".message__bubble");
    bubble.replaceChildren(element("p", "message__label", text.errorLabel), element("p", "message__text", message));
  }

  function finish() {
    if (answering) answering.classList.remove("is-streaming", "is-waiting");
    answering = null;
    updateControls();
    if (!input.disabled) input.focus();
  }

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (!answering) {
      // An error for a question refused before it started (e.g. sent twice).
      if (data.type === "error") setStatus(data.message, true);
      return;
    }
    var stick = nearBottom();
    var paragraph = answering.querySelector(".message__text");
    if (data.type === "delta") {
      answering.classList.remove("is-waiting");
      // Deltas are appended. Markers become buttons once the final reference arrives; until
      // then they are hidden, and a marker cut in two waits for its second half.
      var pending = heldBack + String(data.content || "");
      var cut = pending.search(PARTIAL_CITATION);
      heldBack = cut < 0 ? "" : pending.slice(cut);
      var shown = (cut < 0 ? pending : pending.slice(0, cut)).replace(CITATION, "");
      if (data.html) {
        // Now and then the server sends the whole answer so far, Markdown rendered and
        // sanitized (markers left out): it replaces the plain text appended since.
        paragraph.classList.add("md");
        paragraph.innerHTML = String(data.html);
      } else if (shown) {
        paragraph.append(shown);
      }
    } else if (data.type === "final") {
      // Related questions follow the latest answer only.
      list.querySelectorAll(".related").forEach(function (related) { related.remove(); });
      if (data.html) {
        answering = swapIn(answering, String(data.html));
      } else {
        paragraph.textContent = String(data.answer || "").replace(CITATION, "");
      }
      var meta = document.querySelector(".session-item.is-current .session-item__meta");
      if (meta) meta.textContent = text.justNow;
      // The first question may have named the session: the sidebar and the heading follow.
      var name = document.querySelector(".session-item.is-current .session-item__name");
      if (data.session_name && name && name.textContent !== data.session_name) {
        name.textContent = data.session_name;
        root.querySelector("#session-title").textContent = data.session_name;
      }
      finish();
    } else if (data.type === "error") {
      renderError(answering, String(data.message || ""));
      finish();
    }
    keepScrolled(stick);
  }

  function onClose(event) {
    socket = null;
    if (answering) {
      renderError(answering, text.dropped);
      finish();
    }
    if (event.code === 4401 || event.code === 4404) {
      finished = true;
      setStatus(event.code === 4401 ? text.expired : text.missing, true);
      updateControls();
      return;
    }
    updateControls();
    setStatus(text.reconnecting, true);
    // 1 s, 2 s, 4 s … at most 15 s between attempts.
    var delay = Math.min(15000, 1000 * Math.pow(2, retries));
    retries += 1;
    window.setTimeout(connect, delay);
  }

  function connect() {
    if (finished) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + text.socketPath);
    if (retries === 0) setStatus(text.connecting);
    socket.addEventListener("open", function () {
      retries = 0;
      setStatus("");
      updateControls();
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", onClose);
  }

  function ask() {
    var question = input.value.trim();
    if (!question || answering || !socket || socket.readyState !== WebSocket.OPEN) return;
    addMessage("user").querySelector(".message__text").textContent = question;
    answering = addMessage("assistant");
    heldBack = "";
    answering.classList.add("is-streaming", "is-waiting");
    answering.querySelector(".message__text").setAttribute("data-waiting", text.thinking);
    input.value = "";
    setStatus("");
    updateControls();
    socket.send(JSON.stringify({ question: question }));
  }

  // A related question is asked as if typed.
  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-ask]");
    if (!button) return;
    input.value = button.getAttribute("data-ask");
    ask();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask();
    }
  });

  // Land on the latest message, as chat apps do.
  window.scrollTo(0, document.documentElement.scrollHeight);
  connect();
})();
