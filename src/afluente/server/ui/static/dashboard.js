/* afluente dashboards (docs/dashboards.md): draws window.AFLUENTE_DASHBOARD with ECharts.
   "live" (the server's /ui/dashboards/NAME page): panels load from the API, filters re-query,
   the page refreshes at the dashboard's interval. "static" (`afluente dashboard export`): the
   data was embedded at export time; the filters show the values it was exported with. */
(function () {
  "use strict";
  var cfg = window.AFLUENTE_DASHBOARD;
  var root = document.getElementById("afluente-dashboard");
  var live = cfg.mode === "live";
  var en = (cfg.locale || "").indexOf("pt") !== 0;
  var charts = {};

  function say(pt, english) { return en ? english : pt; }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function formatter(fmt) {
    var options = {};
    if (fmt.kind === "currency") { options.style = "currency"; options.currency = fmt.currency; }
    if (fmt.kind === "percent") { options.style = "percent"; }
    if (fmt.kind === "integer") { options.maximumFractionDigits = 0; }
    if (fmt.decimals !== null && fmt.decimals !== undefined) {
      options.minimumFractionDigits = fmt.decimals;
      options.maximumFractionDigits = fmt.decimals;
    }
    var number = new Intl.NumberFormat(cfg.locale, options);
    return function (value) {
      if (value === null || value === undefined || value === "") { return "–"; }
      var n = Number(value);
      return fmt.kind === "text" || isNaN(n) ? String(value) : number.format(n);
    };
  }

  function columnOf(data, name) {
    var i = data.columns.indexOf(name);
    return data.rows.map(function (row) { return row[i]; });
  }

  function distinct(values) {
    var seen = [];
    values.forEach(function (v) { if (seen.indexOf(v) < 0) { seen.push(v); } });
    return seen;
  }

  function cartesian(panel, data, fmt) {
    var xs = columnOf(data, panel.x);
    var categories = distinct(xs);
    var series = [];
    var kind = panel.chart === "bar" ? "bar" : "line";
    function serie(name, values) {
      var s = { name: String(name), type: kind, data: values };
      if (panel.chart === "area") { s.areaStyle = {}; }
      if (panel.stack) { s.stack = "total"; }
      return s;
    }
    if (panel.series) {
      var split = columnOf(data, panel.series);
      var ys = columnOf(data, panel.y[0]);
      distinct(split).forEach(function (name) {
        var values = categories.map(function () { return null; });
        split.forEach(function (s, i) {
          if (s === name) { values[categories.indexOf(xs[i])] = Number(ys[i]); }
        });
        series.push(serie(name === null ? "–" : name, values));
      });
    } else {
      panel.y.forEach(function (column) {
        var ys = columnOf(data, column);
        var values = categories.map(function (c) { return Number(ys[xs.indexOf(c)]); });
        series.push(serie(column, values));
      });
    }
    var category = { type: "category", data: categories.map(function (c) { return c === null ? "–" : String(c); }) };
    var value = { type: "value", axisLabel: { formatter: fmt } };
    return {
      animation: false, aria: { enabled: true },
      tooltip: { trigger: "axis", valueFormatter: fmt },
      legend: series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: 16, top: series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: panel.horizontal ? value : category,
      yAxis: panel.horizontal ? Object.assign({ inverse: true }, category) : value,
      series: series
    };
  }

  function mapOption(panel, data, fmt) {
    var xs = columnOf(data, panel.x);
    var ys = columnOf(data, panel.y[0]);
    var points = [];
    xs.forEach(function (uf, i) {
      if (uf !== null && ys[i] !== null) { points.push({ name: String(uf).toUpperCase(), value: Number(ys[i]) }); }
    });
    var values = points.map(function (p) { return p.value; });
    return {
      animation: false, aria: { enabled: true },
      tooltip: { trigger: "item", formatter: function (p) { return p.name + ": " + fmt(p.value); } },
      visualMap: { min: values.length ? Math.min.apply(null, values) : 0,
                   max: values.length ? Math.max.apply(null, values) : 1,
                   left: 0, bottom: 0, calculable: true, formatter: fmt,
                   inRange: { color: ["#e0ecf4", "#08519c"] } },
      series: [{ type: "map", map: "BR", name: panel.title, data: points, roam: false,
                 itemStyle: { areaColor: "#f0f0f0", borderColor: "#666" },
                 emphasis: { label: { show: true } } }]
    };
  }

  function table(panel, data, fmt, box) {
    var columns = panel.columns || data.columns;
    var index = columns.map(function (c) { return data.columns.indexOf(c); });
    var number = new Intl.NumberFormat(cfg.locale, { maximumFractionDigits: 4 });
    var t = el("table");
    var head = el("tr");
    columns.forEach(function (c) { head.appendChild(el("th", { scope: "col" }, c)); });
    t.appendChild(el("thead")).appendChild(head);
    var body = t.appendChild(el("tbody"));
    data.rows.forEach(function (row) {
      var tr = body.appendChild(el("tr"));
      index.forEach(function (i) {
        var v = row[i];
        var numeric = typeof v === "number" || (typeof v === "string" && v !== "" && !isNaN(Number(v)) && /^-?[0-9.]+$/.test(v));
        var shown = v === null ? "–" : (numeric ? (panel.format.kind === "number" ? number.format(Number(v)) : fmt(v)) : String(v));
        tr.appendChild(el("td", numeric ? { class: "num" } : {}, shown));
      });
    });
    box.replaceChildren(t);
  }

  function draw(panel, data) {
    var box = document.getElementById("afl-chart-" + panel.name);
    var note = document.getElementById("afl-note-" + panel.name);
    var fmt = formatter(panel.format);
    note.textContent = data.truncated ? say("Mostrando as primeiras linhas apenas.", "Showing the first rows only.") : "";
    if (panel.chart === "table") { table(panel, data, fmt, box); return; }
    box.classList.remove("afl-error");
    var chart = charts[panel.name];
    if (!chart) {
      box.textContent = "";
      chart = charts[panel.name] = echarts.init(box, null, { renderer: "svg" });
    }
    chart.setOption(panel.chart === "map" ? mapOption(panel, data, fmt) : cartesian(panel, data, fmt), true);
  }

  function failed(panel, problem) {
    var box = document.getElementById("afl-chart-" + panel.name);
    if (charts[panel.name]) { charts[panel.name].dispose(); delete charts[panel.name]; }
    box.classList.add("afl-error");
    box.textContent = (problem.detail || say("erro", "error")) + (problem.hint ? "\n" + problem.hint : "");
  }

  function query() {
    var params = new URLSearchParams();
    cfg.filters.forEach(function (f) {
      var input = document.getElementById("afl-filter-" + f.name);
      params.set(f.name, input ? input.value : (f.value === null ? "" : String(f.value)));
    });
    return params.toString();
  }

  function load(panel) {
    return fetch(cfg.api + "/panels/" + encodeURIComponent(panel.name) + "/data?" + query(),
                 { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) { if (answer.ok) { draw(panel, answer.body); } else { failed(panel, answer.body); } })
      .catch(function (error) { failed(panel, { detail: String(error) }); });
  }

  function loadAll() {
    var stamp = document.getElementById("afl-updated");
    return Promise.all(cfg.panels.map(load)).then(function () {
      stamp.textContent = say("Atualizado às ", "Updated at ") + new Date().toLocaleTimeString(cfg.locale);
    });
  }

  function filterForm() {
    var form = el("form", { class: "afl-filters", "aria-label": say("Filtros", "Filters") });
    cfg.filters.forEach(function (f) {
      var id = "afl-filter-" + f.name;
      var label = el("label", { for: id }, f.label || f.name);
      var input;
      if (f.choices) {
        input = el("select", { id: id, name: f.name });
        input.appendChild(el("option", { value: "" }, say("(todos)", "(all)")));
        f.choices.forEach(function (c) {
          var option = el("option", { value: String(c) }, String(c));
          if (f.value !== null && String(c) === String(f.value)) { option.selected = true; }
          input.appendChild(option);
        });
      } else {
        input = el("input", { id: id, name: f.name, type: f.type === "text" ? "search" : f.type });
        input.value = f.value === null ? "" : String(f.value);
      }
      if (live) { input.addEventListener("change", loadAll); } else { input.disabled = true; }
      label.appendChild(input);
      form.appendChild(label);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    return form;
  }

  function layout() {
    var header = el("header", { class: "afl-header" });
    header.appendChild(el("h1", {}, cfg.title));
    if (cfg.description) { header.appendChild(el("p", {}, cfg.description)); }
    var status = el("p", { id: "afl-updated", class: "afl-status", role: "status" });
    if (!live) { status.textContent = say("Exportado em ", "Exported at ") + cfg.exported_at; }
    header.appendChild(status);
    root.replaceChildren(header);
    if (cfg.filters.length) { root.appendChild(filterForm()); }
    var grid = root.appendChild(el("div", { class: "afl-grid" }));
    cfg.panels.forEach(function (panel) {
      var section = el("section", { class: "afl-panel afl-w" + panel.width, "aria-labelledby": "afl-title-" + panel.name });
      section.appendChild(el("h2", { id: "afl-title-" + panel.name }, panel.title));
      if (panel.description) { section.appendChild(el("p", { class: "afl-desc" }, panel.description)); }
      var box = el("div", { id: "afl-chart-" + panel.name, class: "afl-chart afl-" + panel.chart,
                             role: panel.chart === "table" ? "region" : "img", "aria-label": panel.title,
                             "data-panel": panel.name });
      section.appendChild(box);
      section.appendChild(el("p", { id: "afl-note-" + panel.name, class: "afl-note" }));
      grid.appendChild(section);
    });
  }

  function start() {
    layout();
    if (!live) { cfg.panels.forEach(function (p) { draw(p, cfg.data[p.name]); }); return; }
    loadAll();
    if (cfg.refresh_s) { window.setInterval(loadAll, cfg.refresh_s * 1000); }
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  var needsMap = cfg.panels.some(function (p) { return p.chart === "map"; });
  if (needsMap && cfg.map_svg) {
    echarts.registerMap("BR", { svg: cfg.map_svg });
    start();
  } else if (needsMap) {
    fetch(cfg.map_url, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (svg) { echarts.registerMap("BR", { svg: svg }); start(); });
  } else {
    start();
  }
})();
