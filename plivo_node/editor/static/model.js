// The workflow being edited: nodes with their places, edges between outputs and inputs, and
// the conversion to and from the pipeline data the server runs (a pipeline file's shape).
import { visibleParameters } from "./visibility.js";

let counter = 0;
const newId = () => `n${++counter}`;

export const workflow = { name: "New workflow", nodes: [], edges: [], extra: {} };
export const types = new Map(); // node type name -> { description, outputs, trigger, ... }

export function outputNames(type) {
  const description = types.get(type).description;
  const count = types.get(type).outputs.length;
  const names = description.outputNames || [];
  return Array.from({ length: count }, (_, i) => names[i] || (count > 1 ? `output ${i}` : "main"));
}

// A node's outputs on the canvas: its type's, and with onError continueErrorOutput an error
// output after them (as in n8n).
export function nodeOutputs(node) {
  const names = outputNames(node.type);
  return node.onError === "continueErrorOutput" ? [...names, "error"] : names;
}

export function disconnect(edge) {
  workflow.edges = workflow.edges.filter((e) => e !== edge);
}

export function uniqueName(base) {
  const taken = new Set(workflow.nodes.map((n) => n.name));
  if (!taken.has(base)) return base;
  let i = 1;
  while (taken.has(`${base}${i}`)) i += 1;
  return `${base}${i}`;
}

export function addNode(type, x, y) {
  const description = types.get(type).description;
  const node = {
    id: newId(),
    name: uniqueName((description.defaults && description.defaults.name) || description.displayName),
    type,
    parameters: {},
    x,
    y,
  };
  workflow.nodes.push(node);
  return node;
}

export function removeNode(id) {
  workflow.nodes = workflow.nodes.filter((n) => n.id !== id);
  workflow.edges = workflow.edges.filter((e) => e.from !== id && e.to !== id);
}

export function connect(from, output, to) {
  if (from === to) return false;
  if (types.get(nodeById(to).type).description.inputs.length === 0) return false; // a trigger
  if (workflow.edges.some((e) => e.from === from && e.output === output && e.to === to)) return false;
  if (reaches(to, from)) return false; // no cycles
  workflow.edges.push({ from, output, to });
  return true;
}

function reaches(start, target) {
  const stack = [start];
  const seen = new Set();
  while (stack.length) {
    const id = stack.pop();
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of workflow.edges) if (e.from === id) stack.push(e.to);
  }
  return false;
}

export const nodeById = (id) => workflow.nodes.find((n) => n.id === id);
export const nodeByName = (name) => workflow.nodes.find((n) => n.name === name);

// Run order: every node after the nodes it reads; ties by place on the canvas (left to right).
function runOrder() {
  const byPlace = [...workflow.nodes].sort((a, b) => a.x - b.x || a.y - b.y);
  const done = new Set();
  const order = [];
  while (order.length < byPlace.length) {
    const next = byPlace.find(
      (n) => !done.has(n.id) && workflow.edges.every((e) => e.to !== n.id || done.has(e.from)),
    );
    if (!next) break;
    done.add(next.id);
    order.push(next);
  }
  return order;
}

// The pipeline data for the server, and the problems the page can see itself (by node).
export function toPipeline() {
  const problems = [];
  const steps = [];
  const order = runOrder();
  order.forEach((node, index) => {
    const description = types.get(node.type).description;
    const step = { name: node.name, node: node.type };
    if (node.typeVersion !== undefined) step.typeVersion = node.typeVersion;
    const incoming = workflow.edges
      .filter((e) => e.to === node.id)
      .map((e) => ({ step: nodeById(e.from).name, output: e.output }));
    const previous = index > 0 ? order[index - 1].name : null;
    const plain = incoming.length === 1 && incoming[0].step === previous && incoming[0].output === 0;
    if (incoming.length && !plain) {
      const written = incoming.map((i) => (i.output === 0 ? i.step : i));
      step.input = written.length === 1 ? written[0] : written;
    } else if (!incoming.length && index > 0 && description.inputs.length > 0) {
      problems.push({ step: node.name, field: null, message: `node '${node.name}' has no input: connect an output to it` });
    }
    if (node.onError && node.onError !== "stopWorkflow") step.onError = node.onError;
    step.parameters = visibleParameters(description, node.parameters, node.typeVersion);
    steps.push(step);
  });
  const pipeline = { version: 1, name: workflow.name || "Workflow", ...workflow.extra, steps };
  return { pipeline, problems };
}

export function positions() {
  return Object.fromEntries(workflow.nodes.map((n) => [n.name, [n.x, n.y]]));
}

export function fromPipeline(pipeline, places) {
  workflow.name = pipeline.name || "Workflow";
  workflow.extra = {};
  for (const key of ["input", "output", "settings"]) if (pipeline[key] !== undefined) workflow.extra[key] = pipeline[key];
  workflow.nodes = [];
  workflow.edges = [];
  const ids = new Map();
  const steps = pipeline.steps || [];
  steps.forEach((step, index) => {
    const place = places[step.name] || [40 + index * 240, 60];
    const node = {
      id: newId(),
      name: step.name,
      type: step.node,
      parameters: structuredClone(step.parameters || {}),
      x: place[0],
      y: place[1],
    };
    if (step.typeVersion !== undefined) node.typeVersion = step.typeVersion;
    if (step.onError) node.onError = step.onError;
    ids.set(step.name, node.id);
    workflow.nodes.push(node);
  });
  steps.forEach((step, index) => {
    let inputs = [];
    if (step.input !== undefined) {
      inputs = (Array.isArray(step.input) ? step.input : [step.input]).map((i) =>
        typeof i === "string" ? { step: i, output: 0 } : { step: i.step, output: i.output || 0 },
      );
    } else if (index > 0 && types.get(step.node) && !types.get(step.node).trigger) {
      inputs = [{ step: steps[index - 1].name, output: 0 }];
    }
    for (const i of inputs) workflow.edges.push({ from: ids.get(i.step), output: i.output, to: ids.get(step.name) });
  });
  normalisePlaces();
}

// n8n places nodes around (0, 0), sometimes at negative coordinates: shift into view.
function normalisePlaces() {
  if (!workflow.nodes.length) return;
  const minX = Math.min(...workflow.nodes.map((n) => n.x));
  const minY = Math.min(...workflow.nodes.map((n) => n.y));
  for (const n of workflow.nodes) {
    n.x = n.x - minX + 40;
    n.y = n.y - minY + 40;
  }
}
