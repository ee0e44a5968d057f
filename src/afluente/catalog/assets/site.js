// The afluente docs site: one page per table, drawn from window.AFLUENTE (data.js).
(function () {
  "use strict";
  var data = window.AFLUENTE;
  var byName = {};
  data.tables.forEach(function (t) { byName[t.name] = t; });

  function el(tag, attrs, children) {
    var svgTags = ["svg", "g", "rect", "text", "path", "defs", "marker", "a"];
    var node = svgTags.indexOf(tag) >= 0 && attrs && attrs.svg
      ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k !== "svg") { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function tags(list) {
    return el("span", {}, (list || []).map(function (t) {
      return el("span", { "class": "tag " + t }, [t]);
    }));
  }

  function downstreamOf(name) {
    return Object.keys(data.datasets).filter(function (d) {
      return data.datasets[d].inputs.indexOf(name) >= 0;
    });
  }

  // Layered layout: upstream ancestors to the left (negative levels), descendants right.
  function layers(name) {
    var level = {}; level[name] = 0;
    var queue = [name];
    while (queue.length) {
      var n = queue.shift();
      if (level[n] > 0) { continue; }
      (data.datasets[n] ? data.datasets[n].inputs : []).forEach(function (u) {
        if (!(u in level)) { level[u] = level[n] - 1; queue.push(u); }
      });
    }
    downstreamOf(name).forEach(function (d) { if (!(d in level)) { level[d] = 1; } });
    return level;
  }

  function graph(name) {
    var level = layers(name);
    var columns = {};
    Object.keys(level).sort().forEach(function (n) {
      (columns[level[n]] = columns[level[n]] || []).push(n);
    });
    var keys = Object.keys(columns).map(Number).sort(function (a, b) { return a - b; });
    var pos = {}, w = 190, h = 28, gapX = 70, gapY = 14, tallest = 0;
    keys.forEach(function (k, i) {
      columns[k].forEach(function (n, j) { pos[n] = { x: 10 + i * (w + gapX), y: 10 + j * (h + gapY) }; });
      tallest = Math.max(tallest, columns[k].length);
    });
    var svg = el("svg", { svg: 1, id: "lineage-graph", width: 20 + keys.length * (w + gapX),
      height: 20 + tallest * (h + gapY) });
    svg.appendChild(el("defs", { svg: 1 }, [el("marker", { svg: 1, id: "arrow", viewBox: "0 0 10 10",
      refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" },
      [el("path", { svg: 1, d: "M0,0 L10,5 L0,10 z", fill: "#889" })])]));
    Object.keys(pos).forEach(function (n) {
      (data.datasets[n] ? data.datasets[n].inputs : []).forEach(function (u) {
        if (!pos[u]) { return; }
        var a = pos[u], b = pos[n];
        svg.appendChild(el("path", { svg: 1, "class": "edge", "data-from": u, "data-to": n,
          d: "M" + (a.x + w) + "," + (a.y + h / 2) + " L" + b.x + "," + (b.y + h / 2) }));
      });
    });
    Object.keys(pos).forEach(function (n) {
      var p = pos[n];
      var link = el("a", { svg: 1, href: "#" + n, "class": "node" + (n === name ? " current" : ""),
        "data-table": n }, [
        el("rect", { svg: 1, x: p.x, y: p.y, width: w, height: h }),
        el("text", { svg: 1, x: p.x + 6, y: p.y + 18 }, [n])]);
      svg.appendChild(link);
    });
    return svg;
  }

  function columnLineage(name) {
    var rows = data.column_edges.filter(function (e) {
      return e.target.indexOf(name + ".") === 0;
    }).map(function (e) {
      return el("tr", {}, [el("td", {}, [e.target.slice(name.length + 1)]), el("td", {}, [e.source]),
        el("td", {}, [e.kind + (e.detail ? " (" + e.detail + ")" : "")])]);
    });
    return el("table", { id: "column-lineage" }, [el("tr", {}, [el("th", {}, ["column"]),
      el("th", {}, ["from"]), el("th", {}, ["how"])])].concat(rows));
  }

  function show(name) {
    var t = byName[name], d = data.datasets[name] || { inputs: [], warnings: [] };
    var page = document.getElementById("page");
    page.innerHTML = "";
    page.appendChild(el("h2", { id: "table-name" }, [name]));
    if (!t) {
      page.appendChild(el("p", {}, ["External source: " + (d.location || "")]));
    } else {
      page.appendChild(el("p", {}, [t.description || "(no description)"]));
      page.appendChild(el("p", {}, ["owner: " + (t.owner || "-") + " · rows: " +
        (t.rows === null ? "not built" : t.rows) + " · "]));
      page.lastChild.appendChild(tags(t.tags));
      var f = t.freshness || {};
      page.appendChild(el("p", { id: "freshness", "class": "freshness-" + (f.status || "") }, [
        "freshness: " + (f.status || "-") + (f.last_updated ? " · last updated " +
          f.last_updated + " (" + f.age_hours + " h ago)" : "") +
          (f.warn_after_hours ? " · warn after " + f.warn_after_hours + " h" : "") +
          (f.error_after_hours ? " · error after " + f.error_after_hours + " h" : "")]));
      if (t.expectations && t.expectations.length) {
        page.appendChild(el("h3", {}, ["Expectations"]));
        page.appendChild(el("table", { id: "expectations" }, [el("tr", {}, ["rule", "kind",
          "action", "status", "failing rows", "checked"].map(function (h) {
            return el("th", {}, [h]); }))].concat(t.expectations.map(function (x) {
          return el("tr", { "class": x.passed ? "passed" : "failed" }, [x.rule, x.kind, x.action,
            x.passed ? "passed" : "failed", x.rows_failed + " of " + x.rows_evaluated,
            x.checked_at].map(function (v) { return el("td", {}, [String(v)]); }));
        }))));
      }
      page.appendChild(el("h3", {}, ["Columns"]));
      page.appendChild(el("table", { id: "schema" }, [el("tr", {}, ["name", "type", "description",
        "tags"].map(function (h) { return el("th", {}, [h]); }))].concat(t.columns.map(function (c) {
        return el("tr", {}, [el("td", {}, [c.name]), el("td", {}, [c.type]),
          el("td", {}, [c.description]), el("td", {}, [tags(c.tags)])]);
      }))));
    }
    page.appendChild(el("h3", {}, ["Lineage"]));
    page.appendChild(graph(name));
    (d.warnings || []).forEach(function (w) { page.appendChild(el("p", { "class": "warning" }, [w])); });
    page.appendChild(el("h3", {}, ["Column lineage"]));
    page.appendChild(columnLineage(name));
    if (t && t.versions.length) {
      page.appendChild(el("h3", {}, ["Versions"]));
      page.appendChild(el("table", { id: "versions" }, t.versions.map(function (v) {
        return el("tr", {}, [v.version, v.timestamp, v.operation, v.rows_added, v.run_id].map(
          function (x) { return el("td", {}, [String(x === null ? "" : x)]); }));
      })));
    }
  }

  function nav() {
    var list = document.getElementById("tables"), term = document.getElementById("filter").value;
    list.innerHTML = "";
    Object.keys(data.datasets).sort().forEach(function (n) {
      if (term && n.indexOf(term) < 0) { return; }
      list.appendChild(el("li", {}, [el("a", { href: "#" + n }, [n])]));
    });
  }

  document.getElementById("project").textContent = data.project;
  document.getElementById("filter").addEventListener("input", nav);
  window.addEventListener("hashchange", function () { show(decodeURIComponent(location.hash.slice(1))); });
  nav();
  var first = location.hash ? decodeURIComponent(location.hash.slice(1)) : data.tables.length ? data.tables[data.tables.length - 1].name : "";
  if (first) { show(first); }
}());
