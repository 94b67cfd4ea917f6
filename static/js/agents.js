// Agent pages: the conversation (ask over a websocket, stream the replies in, then their
// citations) and the DSL editor's Format button.
// Untrusted text (questions, replies while they stream, names) only ever goes in through
// textContent; the finished reply comes from the server already rendered and sanitized.
(function () {
  "use strict";

  var CITATION = /\[ID:(\d+)\]/g;
  // The start of a marker cut off at the end of a delta: hidden until the rest arrives.
  var PARTIAL_CITATION = /\[(I(D(:\d*)?)?)?$/;

  // --- the DSL editor: pretty-print the JSON in place ------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-format-json]");
    if (!button) return;
    var field = document.querySelector(button.dataset.formatJson);
    if (!field) return;
    try {
      field.value = JSON.stringify(JSON.parse(field.value), null, 2);
    } catch (error) {
      if (!button.dataset.label) button.dataset.label = button.textContent;
      button.textContent = button.dataset.invalidLabel;
      window.clearTimeout(button._resetTimer);
      button._resetTimer = window.setTimeout(function () {
        button.textContent = button.dataset.label;
      }, 2000);
    }
  });

  // After "Check and draw", the textarea is marked invalid only if the check found an error.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "dsl-check") return;
    var field = event.target.closest(".dsl-field").querySelector("textarea");
    var failed = Boolean(document.querySelector("#dsl-errors .errorlist"));
    if (failed) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  });

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
    // One passage at a time per reply, so the panel stays next to what was clicked.
    button.closest(".message").querySelectorAll(".citation").forEach(function (other) {
      if (other !== panel && !other.hidden) setExpanded(other, false);
    });
    setExpanded(panel, open);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var message = event.target.closest(".message");
    if (!message) return;
    message.querySelectorAll(".citation").forEach(function (panel) { setExpanded(panel, false); });
  });

  // --- the conversation ----------------------------------------------------------------------------
  var root = document.querySelector("[data-agent-chat]");
  if (!root) return;
  var list = root.querySelector("#messages");
  var form = root.querySelector("#ask-form");
  var input = form.querySelector("textarea");
  var send = form.querySelector("button[type=submit]");
  var status = root.querySelector("#socket-status");
  var text = root.dataset;

  var socket = null;
  var answering = null; // the reply being streamed: {item, text, heldBack, question, failed}
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
    // Plain text while it streams (white-space: pre-wrap); the finished reply replaces it.
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

  // The finished reply as the server renders it (templates/agents/_message.html): Markdown
  // rendered and sanitized by ragsite/markdown.py, markers as buttons, then the sources.
  function swapIn(item, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var rendered = template.content.firstElementChild;
    if (!rendered) return item;
    item.replaceWith(rendered);
    return rendered;
  }

  // While a reply streams, deltas are appended as plain text; markers are hidden, and one cut
  // in two at the end of a delta waits for its second half. Now and then the server sends the
  // whole reply so far, Markdown rendered and sanitized (markers left out): it replaces the
  // plain text appended since.
  function onDelta(content, html) {
    answering.text += content;
    answering.item.classList.remove("is-waiting");
    var pending = answering.heldBack + content;
    var cut = pending.search(PARTIAL_CITATION);
    answering.heldBack = cut < 0 ? "" : pending.slice(cut);
    var shown = (cut < 0 ? pending : pending.slice(0, cut)).replace(CITATION, "");
    var paragraph = answering.item.querySelector(".message__text");
    if (html) {
      paragraph.classList.add("md");
      paragraph.innerHTML = html;
    } else if (shown) {
      paragraph.append(shown);
    }
  }

  function onError(message) {
    var item = answering.item;
    item.classList.add("message--error");
    item.classList.remove("is-waiting", "is-streaming");
    var paragraph = item.querySelector(".message__text");
    if (!paragraph.textContent) paragraph.remove();
    var bubble = item.querySelector(".message__bubble");
    bubble.append(element("p", "message__label", text.errorLabel), element("p", "message__text message__error", message));
    answering.failed = true;
  }

  function onDone(html) {
    if (html) answering.item = swapIn(answering.item, html);
    var item = answering.item;
    item.classList.remove("is-streaming", "is-waiting");
    if (!answering.text && !answering.failed) {
      item.querySelector(".message__text").textContent = text.noReply;
      item.classList.add("message--empty");
    }
    // The session now has a question: the sidebar entry shows it and when it was used.
    var current = document.querySelector(".session-item.is-current");
    if (current) {
      var meta = current.querySelector(".session-item__meta");
      if (meta) meta.textContent = text.justNow;
      var name = current.querySelector(".session-item__name[data-unnamed]");
      if (name) {
        name.textContent = answering.question;
        name.removeAttribute("data-unnamed");
        root.querySelector("#session-title").textContent = answering.question;
      }
    }
    answering = null;
    updateControls();
    if (!input.disabled) input.focus();
  }

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (!answering) return;
    var stick = nearBottom();
    if (data.type === "delta") onDelta(String(data.content || ""), data.html ? String(data.html) : "");
    else if (data.type === "error") onError(String(data.message || ""));
    else if (data.type === "done") onDone(data.html ? String(data.html) : "");
    keepScrolled(stick);
  }

  function onClose(event) {
    socket = null;
    if (answering) {
      onError(text.dropped);
      onDone("");
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
    var item = addMessage("assistant");
    item.classList.add("is-streaming", "is-waiting");
    item.querySelector(".message__text").setAttribute("data-waiting", text.thinking);
    answering = { item: item, text: "", heldBack: "", question: question, failed: false };
    input.value = "";
    setStatus("");
    updateControls();
    socket.send(JSON.stringify({ question: question }));
  }

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
