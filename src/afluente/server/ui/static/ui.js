// afluente UI: zoom/pan/search on the SVG graphs, buttons that call the API with the
// session's CSRF token, and live updates from the server-sent events stream.
"use strict";
(function () {
  const base = document.body.dataset.base || "";
  const csrf = () => (document.querySelector('meta[name="afluente-csrf"]') || {}).content || "";

  // ---- zoom and pan: the SVG's viewBox moves; wheel, drag, buttons and keys -----------
  function pannable(svg) {
    const full = { w: +svg.dataset.width, h: +svg.dataset.height };
    const box = svg.getBoundingClientRect();
    const fitted = () => {
      const scale = Math.max(full.w / Math.max(box.width, 1), full.h / Math.max(box.height, 1), 0.3);
      return { x: 0, y: 0, w: Math.max(box.width, 1) * scale, h: Math.max(box.height, 1) * scale };
    };
    let view = fitted();
    const show = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    const zoom = (factor, cx, cy) => {
      cx = cx === undefined ? view.x + view.w / 2 : cx;
      cy = cy === undefined ? view.y + view.h / 2 : cy;
      view = { x: cx - (cx - view.x) * factor, y: cy - (cy - view.y) * factor,
               w: view.w * factor, h: view.h * factor };
      show();
    };
    const pan = (dx, dy) => { view.x += dx * view.w; view.y += dy * view.h; show(); };
    const center = (x, y) => { view.x = x - view.w / 2; view.y = y - view.h / 2; show(); };
    svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, view.x + (e.clientX - r.left) / r.width * view.w,
           view.y + (e.clientY - r.top) / r.height * view.h);
    }, { passive: false });
    let drag = null;
    svg.addEventListener("pointerdown", (e) => {
      if (e.target.closest("a")) return;
      drag = { x: e.clientX, y: e.clientY };
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const r = svg.getBoundingClientRect();
      view.x -= (e.clientX - drag.x) / r.width * view.w;
      view.y -= (e.clientY - drag.y) / r.height * view.h;
      drag = { x: e.clientX, y: e.clientY };
      show();
    });
    svg.addEventListener("pointerup", () => { drag = null; });
    svg.addEventListener("keydown", (e) => {
      const keys = { "+": () => zoom(1 / 1.2), "=": () => zoom(1 / 1.2), "-": () => zoom(1.2),
        "0": () => { view = fitted(); show(); }, ArrowLeft: () => pan(-0.1, 0),
        ArrowRight: () => pan(0.1, 0), ArrowUp: () => pan(0, -0.1), ArrowDown: () => pan(0, 0.1) };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
    // Tabbing to a node off screen brings it into view.
    svg.addEventListener("focusin", (e) => {
      const rect = e.target.querySelector && e.target.querySelector("rect");
      if (!rect) return;
      const x = +rect.getAttribute("x"), y = +rect.getAttribute("y");
      if (x < view.x || x > view.x + view.w || y < view.y || y > view.y + view.h) center(x, y);
    });
    show();
    return { zoom, fit: () => { view = fitted(); show(); }, center };
  }

  const graphs = {};
  document.querySelectorAll("svg[data-width]").forEach((svg) => {
    svg.setAttribute("tabindex", "0");
    graphs[svg.id] = pannable(svg);
  });
  document.querySelectorAll("button[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      const g = graphs[button.dataset.graph];
      if (!g) return;
      if (button.dataset.zoom === "fit") g.fit();
      else g.zoom(button.dataset.zoom === "in" ? 1 / 1.3 : 1.3);
    });
  });

  // ---- search: matching nodes stand out, Enter centres on the first --------------------
  document.querySelectorAll("input[type=search][data-graph]").forEach((input) => {
    const svg = document.getElementById(input.dataset.graph);
    const nodes = Array.from(svg.querySelectorAll(".node"));
    const matches = () => nodes.filter((n) => n.classList.contains("match"));
    input.addEventListener("input", () => {
      const q = input.value.trim().toLowerCase();
      nodes.forEach((n) => n.classList.toggle("match", !!q && n.dataset.id.toLowerCase().includes(q)));
      svg.classList.toggle("dim", !!q);
      const count = document.getElementById("graph-count");
      if (count && q) count.textContent = `${matches().length} / ${nodes.length}`;
    });
    input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      const first = matches()[0];
      if (!first) return;
      const rect = first.querySelector("rect");
      graphs[svg.id].center(+rect.getAttribute("x"), +rect.getAttribute("y"));
      first.focus();
    });
  });

  // ---- buttons and forms that POST to the API as the session ---------------------------
  async function post(url, body) {
    const answer = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {}) });
    let said = {};
    try { said = await answer.json(); } catch (_) { said = { detail: answer.statusText }; }
    return { ok: answer.ok, said };
  }
  function report(said, ok) {
    const out = document.getElementById("action-result");
    if (!out) return;
    out.replaceChildren();
    const box = document.createElement("div");
    box.className = ok ? "ok-box" : "problem";
    box.setAttribute("role", ok ? "status" : "alert");
    const line = (text, cls) => { const p = document.createElement("p"); p.className = cls; p.textContent = text; box.append(p); };
    if (ok) line(said.status === "nothing_to_retry" ? `nothing to retry (${said.retry_of})`
                 : `${said.kind || "run"} ${said.run_id || said.job_id || ""}: ${said.status}`, "detail");
    else { line(said.detail || "error", "detail"); if (said.hint) line(`hint: ${said.hint}`, "hint"); }
    out.append(box);
  }
  async function act(url, body) {
    const { ok, said } = await post(url, body);
    report(said, ok);
    if (ok && said.run_id) window.location.href = `${base}/ui/runs/${encodeURIComponent(said.run_id)}`;
  }
  document.querySelectorAll("button[data-post]").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try { await act(button.dataset.post); } finally { button.disabled = false; }
    });
  });
  document.querySelectorAll("form[data-post]").forEach((form) => {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const select = form.elements.select.value.trim();
      await act(form.dataset.post, select ? { select } : {});
    });
  });

  // ---- htmx: a page error (404 version, bad time) is swapped in like a page ------------
  document.body.addEventListener("htmx:beforeSwap", (e) => {
    if (e.detail.xhr.status >= 400 && e.detail.xhr.status < 500) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // ---- live updates over server-sent events -------------------------------------------
  const note = document.getElementById("live-note");
  const liveSay = (text) => { if (note) note.textContent = text; };
  const STATUS = { model_started: "running", model_finished: "success",
                   model_failed: "failed", model_skipped: "skipped" };
  function listen(url, handle) {
    if (!window.EventSource) return;
    const source = new EventSource(url, { withCredentials: true });
    Object.keys(STATUS).concat(["run_started", "run_finished", "table_committed"]).forEach(
      (type) => source.addEventListener(type, (m) => handle(type, JSON.parse(m.data), source)));
    source.onopen = () => { document.body.dataset.live = "open"; };
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) liveSay(""); };
    window.addEventListener("pagehide", () => source.close());
  }
  const graphBox = document.querySelector('[data-live="graph"]');
  if (graphBox) {
    listen(`${base}/api/events/stream`, (type, event) => {
      liveSay(`${event.ts || ""} ${type} ${event.model || ""}`);
      const node = event.model && graphBox.querySelector(`.node[data-id="${CSS.escape(event.model)}"]`);
      if (node && STATUS[type]) {
        node.classList.forEach((c) => { if (c.startsWith("st-")) node.classList.remove(c); });
        node.classList.add(`st-${STATUS[type]}`);
      }
    });
  }
  const runsTable = document.querySelector('[data-live="runs"]');
  if (runsTable) {  // a run starting or ending elsewhere: the list again (unless being typed in)
    listen(`${base}/api/events/stream`, (type, event) => {
      if (type !== "run_started" && type !== "run_finished") return;
      liveSay(`${type} ${event.run_id}`);
      const typing = document.getElementById("run-select");
      if (!typing || !typing.value) window.location.reload();
    });
  }
  const events = document.querySelector('#events[data-live="run"]');
  if (events) {
    const run = encodeURIComponent(events.dataset.run);
    listen(`${base}/api/events/stream?run_id=${run}&after=${events.dataset.after}`, (type, event, source) => {
      const li = document.createElement("li");
      li.value = event.id;
      li.textContent = `${event.ts} ${event.level} ${type} ${event.model || ""}`;
      events.append(li);
      liveSay(type);
      if (type === "run_finished") { source.close(); window.location.reload(); }
    });
  }
})();
