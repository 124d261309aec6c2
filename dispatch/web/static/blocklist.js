// The admins' block list on the dashboard (loaded for admins only): blocking a number
// with a reason and an expiry, lifting a block, and the blocks in force with who made
// them. The service refuses (409) a number that may be an emergency; the answer's
// reason is shown as it came, as text.
"use strict";

const HOUR_MS = 3600 * 1000;
const blockForm = $("block-form");
let blocks = [];

async function loadBlocks() {
  blocks = (await api("GET", "/api/v1/blocklist")).items;
  renderBlocks();
}

function blockItem(entry) {
  return el("li", { class: "block-entry", "data-number": entry.number },
    el("strong", { class: "number" }, entry.number),
    el("span", { class: "reason" }, entry.reason),
    el("span", { class: "muted" }, `${t("block.until", { until: new Date(entry.expires_at).toLocaleString() })}`
      + ` · ${t("block.by", { by: entry.created_by })}`),
    el("button", { type: "button", class: "lift", onclick: () => lift(entry.number) }, t("block.lift")));
}

function renderBlocks() {
  $("block-list").replaceChildren(...(blocks.length ? blocks.map(blockItem)
    : [el("li", { class: "muted" }, t("block.none"))]));
}

function blockSay(kind, text) {
  const out = $("block-result");
  out.className = `result ${kind}`;
  out.textContent = text;
}

async function lift(number) {
  try {
    await api("DELETE", `/api/v1/blocklist/${encodeURIComponent(number)}`);
    await loadBlocks();
  } catch (err) {
    blockSay("error", t("result.error", { detail: err.message }));
  }
}

blockForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const hours = Number(blockForm.hours.value);
  try {
    const entry = await api("POST", "/api/v1/blocklist", {
      number: blockForm.number.value.trim(), reason: blockForm.reason.value.trim(),
      expires_at: new Date(Date.now() + hours * HOUR_MS).toISOString() });
    blockSay("assigned", t("block.added", { number: entry.number,
                                            until: new Date(entry.expires_at).toLocaleString() }));
    blockForm.reset();
    await loadBlocks();
  } catch (err) {
    blockSay("error", t("result.error", { detail: err.message }));
  }
});

// Another admin's change shows here too; calls.js's handler (the caller's warning) runs first.
for (const name of ["blocklist.added", "blocklist.lifted"]) {
  const before = APPLY[name];
  APPLY[name] = (data) => { before(data); loadBlocks().catch(console.error); };
}
document.addEventListener("DOMContentLoaded", () => loadBlocks().catch(console.error));
