// Agent pages: the conversation (ask over a websocket, stream the replies in, then their
// citations) and the DSL editor's Format button.
// Untrusted text (questions, replies, passages, names) only ever goes in through textContent.
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
  var answering = null; // the reply being streamed: {item, text, committed, chunks, question}
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
    bubble.append(element("p", "message__text"));
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

  function sourceLabel(number) {
    return text.sourceLabel.replace("%(n)s", number);
  }

  function documentLink(chunk) {
    var name = chunk.document_name || "";
    if (!chunk.dataset_id || !chunk.document_id) return element("span", "", name);
    var link = element("a", "", name);
    link.href = text.downloadUrl
      .replace("__dataset__", encodeURIComponent(chunk.dataset_id))
      .replace("__document__", encodeURIComponent(chunk.document_id));
    return link;
  }

  function citeButton(item, key) {
    var number = String(Number(key) + 1);
    var button = element("button", "cite__button", number);
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", item.id + "-cite-" + key);
    button.setAttribute("aria-label", sourceLabel(number));
    return button;
  }

  function withoutMarkers(value) {
    return value.replace(CITATION, "").replace(PARTIAL_CITATION, "");
  }

  // The same markup the server renders for stored replies (templates/agents/_message.html).
  // `chunks` is the reference's {"n": chunk} object: [ID:n] cites chunks[n].
  function renderAnswer(item, answer, chunks) {
    var paragraph = item.querySelector(".message__text");
    var cited = [];
    var position = 0;
    var group = null; // the .cite-hug span the last marker went into
    var match;
    paragraph.replaceChildren();
    CITATION.lastIndex = 0;
    while ((match = CITATION.exec(answer)) !== null) {
      var before = answer.slice(position, match.index);
      position = match.index + match[0].length;
      var key = String(Number(match[1]));
      if (!chunks[key]) { // a marker without its chunk is dropped
        paragraph.append(before);
        group = null;
        continue;
      }
      var sup = element("sup", "cite");
      sup.append(citeButton(item, key));
      if (group && !before.trim()) {
        group.append(sup); // "[ID:0][ID:1]": one group
      } else {
        // The markers hug the word before them, like a footnote, so they never wrap alone.
        var head = before.replace(/ +$/, "");
        var hug = head.match(/\S*$/)[0];
        paragraph.append(head.slice(0, head.length - hug.length));
        group = element("span", "cite-hug", hug);
        group.append(sup);
        paragraph.append(group);
      }
      if (cited.indexOf(key) < 0) cited.push(key);
    }
    paragraph.append(withoutMarkers(answer.slice(position)));

    item.querySelectorAll(".citation, .sources").forEach(function (node) { node.remove(); });
    if (!cited.length) return;
    var sources = element("div", "sources");
    sources.append(element("p", "sources__title", text.sourcesLabel));
    var ordered = element("ol", "sources__list");
    cited.forEach(function (key) {
      var panel = element("div", "citation");
      panel.id = item.id + "-cite-" + key;
      panel.hidden = true;
      var head = element("p", "citation__head");
      head.append(element("span", "citation__number", String(Number(key) + 1)), " ", documentLink(chunks[key]));
      panel.append(head, element("blockquote", "citation__text", chunks[key].content || ""));
      item.append(panel);
      var entry = element("li");
      entry.append(citeButton(item, key), " ", documentLink(chunks[key]));
      ordered.append(entry);
    });
    sources.append(ordered);
    item.append(sources);
  }

  // While a reply streams, the text after the last message_end sits in a tail span, markers
  // hidden; each message_end renders everything so far with its citations.
  function tailOf(item) {
    var paragraph = item.querySelector(".message__text");
    var tail = paragraph.querySelector(".message__tail");
    if (!tail) {
      tail = element("span", "message__tail");
      paragraph.append(tail);
    }
    return tail;
  }

  function onDelta(content) {
    answering.text += content;
    answering.item.classList.remove("is-waiting");
    tailOf(answering.item).textContent = withoutMarkers(answering.text.slice(answering.committed));
  }

  function onMessageEnd(reference) {
    var chunks = (reference && reference.chunks) || {};
    Object.keys(chunks).forEach(function (key) { answering.chunks[key] = chunks[key]; });
    answering.committed = answering.text.length;
    renderAnswer(answering.item, answering.text, answering.chunks);
  }

  function onError(message) {
    var item = answering.item;
    renderAnswer(item, answering.text, answering.chunks);
    item.classList.add("message--error");
    item.classList.remove("is-waiting", "is-streaming");
    var paragraph = item.querySelector(".message__text");
    if (!paragraph.textContent) paragraph.remove();
    var bubble = item.querySelector(".message__bubble");
    bubble.append(element("p", "message__label", text.errorLabel), element("p", "message__text message__error", message));
    answering.failed = true;
  }

  function onDone() {
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
    if (data.type === "delta") onDelta(String(data.content || ""));
    else if (data.type === "message_end") onMessageEnd(data.reference);
    else if (data.type === "error") onError(String(data.message || ""));
    else if (data.type === "done") onDone();
    keepScrolled(stick);
  }

  function onClose(event) {
    socket = null;
    if (answering) {
      onError(text.dropped);
      onDone();
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
    answering = { item: item, text: "", committed: 0, chunks: {}, question: question, failed: false };
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
