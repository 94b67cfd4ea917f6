// The knowledge-graph view: draws the graph with Cytoscape.js (static/vendor/cytoscape, 3.34.4),
// filters it by a search, shows an entity's description and relations. Reloads the page when a
// build it was following finishes.
(function () {
  "use strict";

  function labels() {
    var found = {};
    var template = document.getElementById("graph-labels");
    if (!template) return found;
    template.content.querySelectorAll("[data-key]").forEach(function (el) {
      found[el.dataset.key] = el.textContent;
    });
    return found;
  }

  function element(tag, text, className) {
    var el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function init() {
    var dataEl = document.getElementById("graph-data");
    var canvas = document.getElementById("graph-canvas");
    if (!dataEl || !canvas || typeof cytoscape === "undefined") return;
    var graph = JSON.parse(dataEl.textContent || "{}");
    var nodes = graph.nodes || [];
    var edges = graph.edges || [];
    var text = labels();
    var byId = {};
    nodes.forEach(function (n) { byId[n.id] = n; });
    var maxRank = Math.max.apply(null, nodes.map(function (n) { return n.pagerank || 0; }).concat([1e-9]));

    var cy = cytoscape({
      container: canvas,
      elements: nodes.map(function (n) {
        return { data: { id: n.id, label: n.entity_name, type: n.entity_type,
                         size: 18 + 30 * (n.pagerank || 0) / maxRank } };
      }).concat(edges.map(function (e, i) {
        return { data: { id: "e" + i, source: e.source, target: e.target, weight: e.weight } };
      })),
      style: [
        { selector: "node", style: { "label": "data(label)", "width": "data(size)",
          "height": "data(size)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 90,
          "background-color": "#4f6bed", "color": "#222" } },
        { selector: "edge", style: { "width": 1.5, "line-color": "#b7bfd6", "curve-style": "bezier" } },
        { selector: ".faded", style: { "opacity": 0.15 } },
        { selector: "node:selected", style: { "background-color": "#e3573f" } }
      ],
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 8000 },
      wheelSensitivity: 0.3
    });
    window.ragsiteGraph = cy;

    var details = document.getElementById("graph-details");
    function show(id) {
      var node = byId[id];
      if (!node) return;
      cy.$(":selected").unselect();
      cy.getElementById(id).select();
      details.replaceChildren();
      details.appendChild(element("h3", node.entity_name));
      details.appendChild(element("p", (text.type || "Type") + ": " + node.entity_type, "small muted"));
      details.appendChild(element("p", node.description, "graph-view__description"));
      if ((node.communities || []).length) {
        details.appendChild(element("p", (text.communities || "Communities") + ": " + node.communities.join("; "), "small"));
      }
      details.appendChild(element("h4", text.relations || "Relations"));
      var related = edges.filter(function (e) { return e.source === id || e.target === id; });
      if (!related.length) details.appendChild(element("p", text.none || "", "muted small"));
      var list = element("ul", undefined, "graph-view__relations");
      related.forEach(function (e) {
        var other = e.source === id ? e.target : e.source;
        var item = element("li");
        var button = element("button", other, "link-button");
        button.type = "button";
        button.addEventListener("click", function () { show(other); });
        item.appendChild(button);
        item.appendChild(element("span", " — " + e.description, "small"));
        list.appendChild(item);
      });
      details.appendChild(list);
    }
    cy.on("tap", "node", function (event) { show(event.target.id()); });
    document.querySelectorAll("#graph-entities [data-entity] button").forEach(function (button) {
      button.addEventListener("click", function () { show(button.parentElement.dataset.entity); });
    });

    var search = document.getElementById("graph-search");
    var noMatch = document.getElementById("graph-no-match");
    search.addEventListener("input", function () {
      var query = search.value.trim().toLowerCase();
      var shown = 0;
      document.querySelectorAll("#graph-entities [data-entity]").forEach(function (li) {
        var node = byId[li.dataset.entity];
        var hit = !query || (node.entity_name + " " + node.description).toLowerCase().indexOf(query) >= 0;
        li.hidden = !hit;
        if (hit) shown += 1;
        var el = cy.getElementById(node.id);
        if (hit) el.removeClass("faded"); else el.addClass("faded");
      });
      cy.edges().forEach(function (edge) {
        var faded = edge.source().hasClass("faded") && edge.target().hasClass("faded");
        if (faded) edge.addClass("faded"); else edge.removeClass("faded");
      });
      noMatch.hidden = shown > 0;
    });
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target || event.target.id !== "graph-status") return;
    var job = document.getElementById("graph-job");
    if (job && job.dataset.status === "done" && !job.hasAttribute("hx-get") && window.ragsiteGraphFollowing) {
      window.location.reload();
    }
    window.ragsiteGraphFollowing = !!(job && job.hasAttribute("hx-get"));
  });
})();
