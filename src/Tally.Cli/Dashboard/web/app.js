// Shared by the dashboard's pages: the navigation bar, fetch helpers and HTML escaping. No framework, no build step.
// The run vocabulary (status, step outcome and trigger texts) is the server's, in tallyVocabulary (/assets/vocabulary.js,
// loaded first): no page writes those texts itself.
"use strict";

const tally = {
  /** Escapes text for HTML. */
  esc(value) {
    return String(value ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  },

  /** GETs or POSTs JSON; throws an Error carrying the API's message on a non-2xx answer. */
  async api(path, options = {}) {
    const init = { method: options.method ?? "GET", headers: { Accept: "application/json" } };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!response.ok) {
      const error = new Error(json?.error ?? `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return json;
  },

  statusColor(status) {
    const s = tallyVocabulary.status, o = tallyVocabulary.outcome;
    return {
      [s.succeeded]: "var(--ok)", [s.failed]: "var(--fail)", [s.running]: "var(--run)", [o.retrying]: "var(--run)",
      [s.cancelled]: "var(--cancel)", [s.abandoned]: "var(--cancel)",
    }[status] ?? "#9aa5b1";
  },

  badge(status) {
    return `<span class="badge" style="background:${tally.statusColor(status)}">${tally.esc(status)}</span>`;
  },

  /** A marker for how a run was started; a scheduled run has none. */
  triggerGlyph(trigger) {
    const t = tallyVocabulary.trigger;
    return { [t.catchUp]: "C", [t.lateData]: "L", [t.backfill]: "B", [t.manual]: "M" }[trigger] ?? "";
  },

  time(iso) {
    return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace(/\+00:00$|Z$/, "") : "–";
  },

  seconds(s) {
    return s == null ? "–" : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
  },

  number(n) {
    return n == null ? "–" : Number(n).toLocaleString("en-US");
  },

  nav(active) {
    const links = [["/", "Hours"], ["/tables", "Tables"], ["/charts", "Charts"], ["/sql", "SQL"]];
    const header = document.createElement("header");
    header.innerHTML = `<strong>Tally</strong><nav>${links.map(([href, label]) =>
      `<a href="${href}" class="${label === active ? "active" : ""}">${label}</a>`).join("")}</nav>
      <span class="muted" style="margin-left:auto">hours in UTC</span>`;
    document.body.prepend(header);
  },
};
