// A step's results: one row per input item, paired with what it produced (as a table and as
// JSON). Built as one HTML string: a 1,000-item run renders in one layout pass.
const MAX_COLUMNS = 8;

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const show = (value) => (value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));

function columns(records) {
  const seen = new Set();
  for (const record of records) {
    for (const key of Object.keys(record || {})) {
      seen.add(key);
      if (seen.size >= MAX_COLUMNS) return [...seen];
    }
  }
  return [...seen];
}

// The input item in one cell: "name: Ada, phone: +1..." (the whole item in its tooltip).
function inputCell(input) {
  const text = Object.entries(input || {}).map(([k, v]) => `${k}: ${show(v)}`).join(", ");
  return `<td class="in" title="${escapeHtml(text)}">${escapeHtml(text)}</td>`;
}

export function renderTable(container, rows, stepName) {
  const outputs = rows.flatMap((row) => row.outputs.map((out) => out.json));
  const outCols = columns(outputs);
  const head =
    `<tr><th scope="col">#</th><th scope="col" class="in">input item</th>` +
    `<th scope="col">output</th>${outCols.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join("")}<th scope="col">error</th></tr>`;
  const body = [];
  for (const row of rows) {
    const produced = row.outputs.length ? row.outputs : [null];
    produced.forEach((out, i) => {
      const error = (out && out.error && out.error.message) || row.error || "";
      const cells = [
        `<td>${i === 0 ? row.index : ""}</td>`,
        i === 0 ? inputCell(row.input) : `<td class="in"></td>`,
        `<td>${out ? escapeHtml(out.output) : "(none)"}</td>`,
        ...outCols.map((c) => `<td>${out ? escapeHtml(show(out.json[c])) : ""}</td>`),
        `<td class="error">${escapeHtml(error)}</td>`,
      ];
      body.push(`<tr${error ? ' class="failed"' : ""}>${cells.join("")}</tr>`);
    });
  }
  container.innerHTML =
    `<table aria-label="Output items of ${escapeHtml(stepName)}, paired with their input items"><thead>${head}</thead>` +
    `<tbody>${body.join("")}</tbody></table>`;
}

export function renderJson(pre, rows) {
  pre.textContent = JSON.stringify(rows, null, 2);
}
