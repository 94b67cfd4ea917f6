// A knowledge base's page: the drop zone and upload progress, the settings dialog, and the
// checkboxes for bulk actions. htmx makes every request; this only wires up the browser parts.
// Listeners sit on document, so rows and forms that htmx swaps in later work too.
(function () {
  "use strict";

  // --- upload -------------------------------------------------------------------------------

  function uploadForm() {
    return document.getElementById("upload-form");
  }

  function showUploadError(form, text) {
    var note = form.querySelector("[data-client-error]");
    if (!note) {
      note = document.createElement("p");
      note.className = "alert alert--error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-client-error", "");
      form.appendChild(note);
    }
    note.textContent = text;
  }

  function upload(files) {
    var form = uploadForm();
    if (!form || !files || !files.length || form.classList.contains("is-uploading")) return;
    var input = form.querySelector("[data-upload-input]");
    var total = 0;
    for (var i = 0; i < files.length; i++) total += files[i].size;
    // The server refuses these too, but only after the whole upload: say so before sending.
    if (Number(form.dataset.maxBytes) && total > Number(form.dataset.maxBytes)) {
      showUploadError(form, form.dataset.tooLarge);
      input.value = "";
      return;
    }
    if (input.files !== files) input.files = files;
    form.requestSubmit();
  }

  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0;
  }

  function dropzone() {
    var form = uploadForm();
    return form && form.querySelector("[data-dropzone]");
  }

  // Files dropped anywhere on the page are uploaded: a near miss must not make the browser
  // leave the page to show the file.
  document.addEventListener("dragover", function (event) {
    var zone = dropzone();
    if (!zone || !hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-dragover");
  });
  document.addEventListener("dragleave", function (event) {
    var zone = dropzone();
    // relatedTarget is null when the pointer leaves the window.
    if (zone && !event.relatedTarget) zone.classList.remove("is-dragover");
  });
  document.addEventListener("drop", function (event) {
    var zone = dropzone();
    if (!zone || !hasFiles(event)) return;
    event.preventDefault();
    zone.classList.remove("is-dragover");
    upload(event.dataTransfer.files);
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-upload-input]")) upload(event.target.files);
  });

  function progressParts(form) {
    var box = form.querySelector("[data-upload-progress]");
    return box && { box: box, bar: box.querySelector("progress"), label: box.querySelector("span") };
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form.id !== "upload-form") return;
    var parts = progressParts(form);
    form.classList.add("is-uploading");
    form.dataset.sent = "";
    var stale = form.querySelectorAll("[data-client-error], .alert");
    for (var i = 0; i < stale.length; i++) stale[i].remove();
    parts.box.hidden = false;
    parts.bar.value = 0;
    parts.label.textContent = form.dataset.uploading;
  });

  // htmx reports upload and download progress alike; once the upload is complete, the rest
  // is the server checking and storing the files.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.detail.elt || event.target;
    if (form.id !== "upload-form" || form.dataset.sent || !event.detail.lengthComputable) return;
    var parts = progressParts(form);
    var percent = Math.floor((event.detail.loaded / event.detail.total) * 100);
    parts.bar.value = percent;
    if (percent >= 100) {
      form.dataset.sent = "1";
      parts.bar.removeAttribute("value"); // indeterminate while the server works
      parts.label.textContent = form.dataset.processing;
    } else {
      parts.label.textContent = form.dataset.uploading + " " + percent + "%";
    }
  });

  // A successful upload replaces the form; after a failure, put it back to how it was.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form.id !== "upload-form" || !form.isConnected) return;
    form.classList.remove("is-uploading");
    var parts = progressParts(form);
    if (parts) parts.box.hidden = true;
    form.querySelector("[data-upload-input]").value = "";
  });

  // "Parsing has started" notices (.parse-notice) hold while documents parse. Every documents
  // response brings the poller back, without its trigger once nothing parses: then they go.
  function clearParseNotices() {
    var poller = document.getElementById("document-poller");
    if (!poller || poller.hasAttribute("hx-trigger")) return;
    document.querySelectorAll(".parse-notice").forEach(function (notice) { notice.remove(); });
  }
  document.addEventListener("htmx:load", clearParseNotices);
  document.addEventListener("htmx:afterSettle", clearParseNotices);

  // --- the settings dialog ------------------------------------------------------------------

  // The dialog is open exactly while it holds a form: a saved form comes back empty.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.detail.target;
    if (!dialog || dialog.id !== "document-dialog") return;
    if (dialog.querySelector("form")) {
      if (!dialog.open) {
        dialog.dataset.returnFocus = event.detail.requestConfig.elt.id || "";
        dialog.showModal();
      }
      var invalid = dialog.querySelector("[aria-invalid=true]");
      (invalid || dialog.querySelector("input:not([type=hidden]), select")).focus();
    } else if (dialog.open) {
      dialog.close();
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var dialog = closer && closer.closest("dialog");
    if (!dialog) return; // on the settings page of its own, Cancel is a plain link
    event.preventDefault();
    dialog.close();
  });

  // "close" does not bubble; listen while it goes down instead.
  document.addEventListener(
    "close",
    function (event) {
      var dialog = event.target;
      if (dialog.id !== "document-dialog") return;
      dialog.replaceChildren();
      // The row may have been redrawn meanwhile, so look its button up again by id.
      var back = dialog.dataset.returnFocus && document.getElementById(dialog.dataset.returnFocus);
      if (back) back.focus();
    },
    true
  );

  // --- selection and bulk actions ------------------------------------------------------------

  function boxes() {
    return document.querySelectorAll('#document-rows input[name="ids"]');
  }

  function updateSelection() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var all = boxes();
    var checked = 0;
    for (var i = 0; i < all.length; i++) if (all[i].checked) checked++;
    form.querySelector("[data-selection-count]").textContent = checked
      ? form.dataset.selected.replace("%(count)s", checked)
      : form.dataset.noneSelected;
    var buttons = form.querySelectorAll("button");
    for (var j = 0; j < buttons.length; j++) buttons[j].disabled = !checked;
    form.classList.toggle("has-selection", checked > 0);
    var master = document.querySelector("[data-select-all]");
    if (master) {
      master.checked = checked > 0 && checked === all.length;
      master.indeterminate = checked > 0 && checked < all.length;
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      var all = boxes();
      for (var i = 0; i < all.length; i++) all[i].checked = event.target.checked;
    }
    if (event.target.matches("[data-select-all], #document-rows input[name='ids']")) updateSelection();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    // After a bulk action the ticks have served their purpose.
    if (event.detail.successful && event.detail.elt.closest && event.detail.elt.closest("#bulk-form")) {
      var all = boxes();
      for (var i = 0; i < all.length; i++) all[i].checked = false;
    }
    updateSelection();
  });
  document.addEventListener("htmx:afterSettle", updateSelection);
  document.addEventListener("DOMContentLoaded", updateSelection);

  // --- polling ------------------------------------------------------------------------------

  // An error answer (the knowledge base was deleted, the server is failing) would otherwise be
  // asked for again every 1.5 s: replace the poller with an idle one. Actions bring it back.
  document.addEventListener("htmx:responseError", function (event) {
    var poller = event.detail.elt;
    if (poller.id !== "document-poller") return;
    var idle = document.createElement("div");
    idle.id = poller.id;
    idle.hidden = true;
    poller.replaceWith(idle);
  });
})();
