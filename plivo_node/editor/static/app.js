// The editor page: palette, canvas, parameters panel, items, runs, credentials and files.
import { api, ApiError } from "./api.js";
import { Canvas, iconOf } from "./canvas.js";
import {
  addNode, connect, fromPipeline, nodeById, nodeByName, positions, removeNode, toPipeline, types, uniqueName, workflow,
} from "./model.js";
import { Panel } from "./params.js";
import { renderJson, renderTable } from "./results.js";

const $ = (id) => document.getElementById(id);
const state = { items: [{}], lastRun: null, problems: [], file: null, format: "yaml", resultStep: null };

const announce = (text) => { $("status").textContent = text; };

const canvas = new Canvas($("canvas"), $("edges"), {
  select: (node) => select(node),
  added: (node) => { canvas.selected = node.id; changed(); select(node); },
  changed: () => changed(),
  moved: () => {},
  remove: (node) => remove(node),
  announce,
});

const panel = new Panel($("panel"), $("panel-title"), {
  changed: (node, { structure }) => { clearProblems(); if (structure) canvas.render(); },
  rename: (node, name) => {
    if (!name || (name !== node.name && nodeByName(name))) {
      announce(`A node named '${name}' exists already: choose another name`);
      panel.render();
      return;
    }
    node.name = name;
    changed();
    select(node);
  },
  remove: (node) => remove(node),
  sample: (node) => sampleFor(node),
});

function changed() {
  clearProblems();
  canvas.render();
}

function clearProblems() {
  state.problems = [];
}

function select(node) {
  canvas.selected = node ? node.id : null;
  $("run-to").disabled = !node;
  canvas.render();
  panel.show(node, node ? state.problems.filter((p) => p.step === node.name) : []);
  if (node && state.lastRun && state.lastRun.steps[node.name]) showResults(node.name);
}

function remove(node) {
  removeNode(node.id);
  select(null);
  changed();
  announce(`Deleted node ${node.name}`);
}

// The item an expression preview reads: the node's input from the last run, else the input items.
function sampleFor(node) {
  const index = Number($("sample").value || 0);
  const rows = state.lastRun && node && state.lastRun.steps[node.name];
  if (rows && rows.length) {
    const row = rows[Math.min(index, rows.length - 1)];
    return { item: row.input || {}, index: row.index };
  }
  return { item: state.items[Math.min(index, state.items.length - 1)] || {}, index };
}

// --- palette -----------------------------------------------------------------------------------

function renderPalette() {
  const list = $("palette");
  list.replaceChildren();
  const sorted = [...types.values()].sort(
    (a, b) => Number(b.trigger) - Number(a.trigger) || a.description.displayName.localeCompare(b.description.displayName),
  );
  for (const type of sorted) {
    const d = type.description;
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "palette-node";
    button.draggable = true;
    button.dataset.type = type.name;
    button.setAttribute("aria-label", `Add ${d.displayName}: ${d.description}`);
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = iconOf(d);
    const text = document.createElement("span");
    text.innerHTML = "";
    const name = document.createElement("strong");
    name.textContent = d.displayName;
    const help = document.createElement("small");
    help.textContent = d.description;
    text.append(name, help);
    button.append(icon, text);
    button.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("application/x-plivo-node-type", type.name);
      event.dataTransfer.effectAllowed = "copy";
    });
    // Keyboard (and click): add after the selected node, connected to its first output.
    button.addEventListener("click", () => addFromKeyboard(type.name));
    item.append(button);
    list.append(item);
  }
}

function addFromKeyboard(typeName) {
  const after = canvas.selected ? nodeById(canvas.selected) : workflow.nodes[workflow.nodes.length - 1];
  const x = after ? after.x + 240 : 40;
  const y = after ? after.y : 60;
  const node = addNode(typeName, x, y);
  if (after && !types.get(typeName).trigger) connect(after.id, 0, node.id);
  canvas.selected = node.id;
  changed();
  select(node);
  announce(`Added ${node.name}${after ? ` after ${after.name}` : ""}`);
}

// --- items ---------------------------------------------------------------------------------------

function setItems(items) {
  state.items = items.length ? items : [{}];
  const count = items.length;
  $("items-count").textContent = count ? `${count} input item${count === 1 ? "" : "s"}` : "1 empty item";
  const sample = $("sample");
  sample.replaceChildren();
  state.items.slice(0, 200).forEach((item, i) => {
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = `#${i} ${JSON.stringify(item).slice(0, 60)}`;
    sample.append(option);
  });
  panel.render();
}

async function loadItems(text, filename) {
  try {
    const { items } = await api("POST", "/api/items", { text, filename });
    setItems(items);
    announce(`Loaded ${items.length} items`);
  } catch (error) {
    announce(error.message);
  }
}

$("items-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) await loadItems(await file.text(), file.name);
  event.target.value = "";
});
$("items-use").addEventListener("click", () => {
  const text = $("items-text").value.trim();
  loadItems(text, text.startsWith("[") || text.startsWith("{") ? "pasted.json" : "pasted.csv");
});
$("sample").addEventListener("change", () => panel.render());

// --- runs ----------------------------------------------------------------------------------------

function pipelineOrProblems() {
  workflow.name = $("workflow-name").value.trim() || "Workflow";
  const { pipeline, problems } = toPipeline();
  if (problems.length) {
    showProblems(problems, "");
    return null;
  }
  return pipeline;
}

function showProblems(problems, summary) {
  state.problems = problems;
  canvas.status = {};
  for (const p of problems) if (p.step) canvas.status[p.step] = "error";
  canvas.render();
  const selected = canvas.selected && nodeById(canvas.selected);
  const first = problems.find((p) => p.step) || problems[0];
  const target = selected && problems.some((p) => p.step === selected.name) ? selected : first && first.step && nodeByName(first.step);
  if (target) {
    canvas.selected = target.id;
    panel.show(target, problems.filter((p) => p.step === target.name));
  }
  $("run-summary").textContent = summary || problems.map((p) => (p.step ? `${p.step}: ${p.message}` : p.message)).join("\n");
  announce(`${problems.length} problem${problems.length === 1 ? "" : "s"} to fix before running`);
}

async function run(upTo) {
  const pipeline = pipelineOrProblems();
  if (!pipeline) return;
  const body = { pipeline, items: state.items, upTo: upTo || null };
  const started = performance.now();
  $("run").disabled = true;
  try {
    let report;
    if ($("live").checked) {
      announce("Dry run of the live run: nothing is sent…");
      const dry = await api("POST", "/api/dry-run", body);
      if (!(await confirmLive(dry))) {
        announce("Live run cancelled: nothing was sent");
        return;
      }
      report = await api("POST", "/api/run", { ...body, mode: "live", confirmation: dry.confirmation });
    } else {
      announce("Running on the sandbox (nothing is sent)…");
      report = await api("POST", "/api/run", { ...body, mode: "sandbox" });
    }
    showRun(report, upTo);
    const elapsed = performance.now() - started;
    document.body.dataset.lastRunMs = String(Math.round(elapsed));
  } catch (error) {
    if (error instanceof ApiError && error.problems.length) showProblems(error.problems, error.message);
    else announce(error.message);
  } finally {
    $("run").disabled = false;
  }
}

function confirmLive(dry) {
  const figures = $("confirm-figures");
  figures.replaceChildren();
  const s = dry.summary;
  const lines = [`${s.items} input items; ${s.succeeded} would succeed, ${s.failed} would fail.`, ...s.lines];
  for (const line of lines) {
    const p = document.createElement("p");
    p.textContent = line;
    figures.append(p);
  }
  const dialog = $("confirm-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "send"), { once: true }));
}

function showRun(report, upTo) {
  state.lastRun = report;
  state.problems = [];
  canvas.status = {};
  for (const [name, rows] of Object.entries(report.steps)) {
    canvas.status[name] = rows.some((r) => r.error || r.outputs.some((o) => o.error)) ? "error" : "ok";
  }
  canvas.render();
  const s = report.summary;
  const where = report.mode === "live" ? "live account" : "sandbox (nothing was sent)";
  $("run-summary").textContent =
    `Run on the ${where}: ${s.items} items, ${s.succeeded} succeeded, ${s.failed} failed in ${s.seconds}s. ${s.lines.join("; ")}` +
    (s.stopped ? ` Stopped: ${s.stopped}` : "");
  const selected = canvas.selected && nodeById(canvas.selected);
  panel.show(selected || null, []); // the problems shown before this run are gone
  const names = Object.keys(report.steps);
  showResults(upTo || (selected && report.steps[selected.name] ? selected.name : names[names.length - 1]));
  announce("Run finished");
}

function showResults(name) {
  const rows = (state.lastRun && state.lastRun.steps[name]) || [];
  state.resultStep = name;
  $("results-title").textContent = `Results of ${name}`;
  renderTable($("results-table"), rows, name);
  renderJson($("results-json"), rows);
}

for (const [tab, other] of [["tab-table", "tab-json"], ["tab-json", "tab-table"]]) {
  $(tab).addEventListener("click", () => {
    $(tab).setAttribute("aria-selected", "true");
    $(other).setAttribute("aria-selected", "false");
    $($(tab).getAttribute("aria-controls")).hidden = false;
    $($(other).getAttribute("aria-controls")).hidden = true;
  });
}

$("run").addEventListener("click", () => run(null));
$("run-to").addEventListener("click", () => canvas.selected && run(nodeById(canvas.selected).name));

// --- files ---------------------------------------------------------------------------------------

function loadDocument(doc, filename) {
  fromPipeline(doc.pipeline, doc.positions || {});
  $("workflow-name").value = workflow.name;
  state.format = doc.format;
  state.lastRun = null;
  canvas.status = {};
  select(null);
  changed();
  if (filename) $("file-name").textContent = `${filename} (${doc.format === "n8n" ? "n8n workflow" : "pipeline YAML"})`;
  if (doc.notices && doc.notices.length) announce(doc.notices.join("; "));
}

$("open-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  try {
    const doc = await api("POST", "/api/open", { text: await file.text(), filename: file.name });
    loadDocument(doc, file.name);
    state.file = null; // Save writes the file the editor was started with; this one is exported
    announce(`Opened ${file.name}`);
  } catch (error) {
    announce(`${file.name}: ${error.message}`);
  }
});

async function exportAs(format) {
  const pipeline = pipelineOrProblems();
  if (!pipeline) return;
  try {
    const { text } = await api("POST", "/api/export", { pipeline, positions: positions(), format });
    const name = `${(workflow.name || "workflow").replace(/[^A-Za-z0-9_-]+/g, "_")}.${format === "n8n" ? "json" : "yaml"}`;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: format === "n8n" ? "application/json" : "application/yaml" }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    announce(`Exported ${name}`);
  } catch (error) {
    announce(error.message);
  }
}

$("export-yaml").addEventListener("click", () => exportAs("yaml"));
$("export-n8n").addEventListener("click", () => exportAs("n8n"));
$("save").addEventListener("click", async () => {
  const pipeline = pipelineOrProblems();
  if (!pipeline) return;
  try {
    const saved = await api("POST", "/api/save", { pipeline, positions: positions() });
    announce(`Saved ${saved.saved}`);
  } catch (error) {
    announce(error.message);
  }
});

// --- credentials ---------------------------------------------------------------------------------

async function openCredentials() {
  const { credentials } = await api("GET", "/api/credentials");
  const box = $("credentials-fields");
  box.replaceChildren();
  for (const type of types.values()) {
    for (const credential of type.credentials) {
      if (box.querySelector(`[data-type="${credential.name}"]`)) continue;
      const fieldset = document.createElement("fieldset");
      fieldset.dataset.type = credential.name;
      const legend = document.createElement("legend");
      legend.textContent = credential.displayName;
      fieldset.append(legend);
      for (const prop of credential.properties) {
        const current = credentials[credential.name][prop.name];
        const secret = prop.typeOptions && prop.typeOptions.password;
        const label = document.createElement("label");
        label.textContent = prop.displayName + (prop.required ? " *" : "");
        const input = document.createElement("input");
        input.name = prop.name;
        input.type = secret ? "password" : "text";
        input.autocomplete = "off";
        input.placeholder = secret ? (current.set ? "set (leave blank to keep)" : "not set") : prop.default || prop.placeholder || "";
        if (!secret) input.value = current.value || "";
        label.append(input);
        fieldset.append(label);
        if (secret) {
          const status = document.createElement("small");
          status.className = "secret-status";
          status.textContent = `${prop.displayName}: ${current.set ? "set" : "not set"}`;
          fieldset.append(status);
        }
      }
      box.append(fieldset);
    }
  }
  $("credentials-dialog").showModal();
}

$("open-credentials").addEventListener("click", openCredentials);
$("credentials-save").addEventListener("click", async (event) => {
  event.preventDefault();
  for (const fieldset of $("credentials-fields").querySelectorAll("fieldset")) {
    const fields = {};
    for (const input of fieldset.querySelectorAll("input")) {
      if (input.type === "password" && !input.value) continue; // blank keeps the secret
      fields[input.name] = input.value;
    }
    try {
      await api("PUT", "/api/credentials", { type: fieldset.dataset.type, fields });
    } catch (error) {
      announce(error.message);
      return;
    }
  }
  $("credentials-dialog").close();
  announce("Credentials saved in this session (never sent back to the page)");
});

// --- start ---------------------------------------------------------------------------------------

async function start() {
  const [{ nodes }, doc] = await Promise.all([api("GET", "/api/nodes"), api("GET", "/api/document")]);
  for (const node of nodes) types.set(node.name, node);
  renderPalette();
  state.file = doc.file;
  loadDocument(doc, doc.file);
  if (!doc.file) $("save").disabled = true;
  setItems(doc.items || []);
  document.body.dataset.ready = "true";
}

start().catch((error) => announce(`The editor could not start: ${error.message}`));
export { uniqueName };
