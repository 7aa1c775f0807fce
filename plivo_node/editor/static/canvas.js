// The canvas: nodes placed by dropping them from the palette, moved by dragging their title,
// connected by dragging from an output port onto another node's input port.
import { addNode, connect, nodeById, nodeOutputs, types, workflow } from "./model.js";
import { currentValueOf } from "./visibility.js";

const NODE_WIDTH = 180;
const PORT_GAP = 26;
const SVG = "http://www.w3.org/2000/svg";

// Symbols for the icons descriptions name (no icon font ships with the editor).
const ICONS = { "fa:map-signs": "⇆", "fa:pen": "✎", "fa:filter": "▼", "fa:arrow-right": "→", "fa:mouse-pointer": "▶", "node:split-out": "⇶" };
export function iconOf(description) {
  return ICONS[description.icon] || description.displayName.slice(0, 1).toUpperCase();
}

export class Canvas {
  constructor(root, svg, hooks) {
    this.root = root;
    this.svg = svg;
    this.hooks = hooks; // { select(node), changed(), added(node) }
    this.selected = null;
    this.status = {}; // node name -> "ok" | "error" after a run or a check
    root.addEventListener("dragover", (event) => {
      if (event.dataTransfer.types.includes("application/x-plivo-node-type")) event.preventDefault();
    });
    root.addEventListener("drop", (event) => {
      const type = event.dataTransfer.getData("application/x-plivo-node-type");
      if (!type || !types.has(type)) return;
      event.preventDefault();
      const box = root.getBoundingClientRect();
      const node = addNode(type, event.clientX - box.left + root.scrollLeft - NODE_WIDTH / 2, event.clientY - box.top + root.scrollTop - 20);
      this.hooks.added(node);
    });
    root.addEventListener("pointerdown", (event) => {
      if (event.target === root || event.target === svg) this.hooks.select(null);
    });
  }

  render() {
    for (const old of this.root.querySelectorAll(".node")) old.remove();
    document.getElementById("canvas-empty").hidden = workflow.nodes.length > 0;
    for (const node of workflow.nodes) this.root.append(this.nodeElement(node));
    this.renderEdges();
  }

  nodeElement(node) {
    const type = types.get(node.type);
    const description = type.description;
    const box = document.createElement("div");
    box.className = "node";
    box.dataset.id = node.id;
    box.dataset.name = node.name;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", `Node ${node.name} (${description.displayName})`);
    if (this.selected === node.id) box.classList.add("selected");
    if (this.status[node.name]) box.classList.add(this.status[node.name]);
    box.style.left = `${node.x}px`;
    box.style.top = `${node.y}px`;
    const outputs = nodeOutputs(node);
    box.style.height = `${Math.max(64, 30 + outputs.length * PORT_GAP)}px`;

    const title = document.createElement("button");
    title.type = "button";
    title.className = "node-title";
    title.setAttribute("aria-label", `Select node ${node.name}`);
    title.innerHTML = "";
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = iconOf(description);
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = node.name;
    const sub = document.createElement("span");
    sub.className = "sub";
    const op = ["resource", "operation"]
      .map((name) => currentValueOf(description, node.parameters, name, node.typeVersion))
      .filter((value) => typeof value === "string" && value)
      .join(" ");
    sub.textContent = op || description.displayName;
    title.append(icon, label, sub);
    title.addEventListener("click", () => this.hooks.select(node));
    title.addEventListener("keydown", (event) => {
      if (event.key === "Delete" || event.key === "Backspace") this.hooks.remove(node);
    });
    this.makeMovable(title, node, box);
    box.append(title);

    if (description.inputs.length) {
      const input = document.createElement("button");
      input.type = "button";
      input.className = "port in";
      input.dataset.id = node.id;
      input.setAttribute("aria-label", `Input of ${node.name}`);
      input.addEventListener("click", () => this.finishKeyboardLink(node));
      box.append(input);
    }
    outputs.forEach((name, index) => {
      const port = document.createElement("button");
      port.type = "button";
      port.className = "port out";
      port.dataset.output = String(index);
      port.style.top = `${24 + index * PORT_GAP}px`;
      port.setAttribute("aria-label", `Output ${name} of ${node.name}`);
      port.title = name;
      if (outputs.length > 1) {
        const tag = document.createElement("span");
        tag.className = "port-name";
        tag.textContent = name;
        tag.style.top = `${18 + index * PORT_GAP}px`;
        box.append(tag);
      }
      this.makeLinkable(port, node, index);
      // Keyboard: press an output, then an input, to connect them.
      port.addEventListener("click", () => {
        this.pending = { from: node.id, output: index };
        this.hooks.announce(`Connecting output ${name} of ${node.name}: press the input of another node`);
      });
      box.append(port);
    });
    return box;
  }

  finishKeyboardLink(node) {
    if (!this.pending) return;
    const { from, output } = this.pending;
    this.pending = null;
    if (connect(from, output, node.id)) this.hooks.changed();
  }

  makeMovable(handle, node, box) {
    handle.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      const startX = event.clientX;
      const startY = event.clientY;
      const x0 = node.x;
      const y0 = node.y;
      let moved = false;
      const move = (e) => {
        const dx = e.clientX - startX;
        const dy = e.clientY - startY;
        if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
        moved = true;
        node.x = Math.max(0, x0 + dx);
        node.y = Math.max(0, y0 + dy);
        box.style.left = `${node.x}px`;
        box.style.top = `${node.y}px`;
        this.renderEdges();
      };
      const up = () => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", up);
        if (moved) this.hooks.moved();
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    });
  }

  makeLinkable(port, node, output) {
    port.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      const box = this.root.getBoundingClientRect();
      const line = document.createElementNS(SVG, "path");
      line.setAttribute("class", "edge drawing");
      this.svg.append(line);
      const start = this.portPoint(node, output);
      const move = (e) => {
        const x = e.clientX - box.left + this.root.scrollLeft;
        const y = e.clientY - box.top + this.root.scrollTop;
        line.setAttribute("d", curve(start.x, start.y, x, y));
      };
      const up = (e) => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", up);
        line.remove();
        const target = document.elementFromPoint(e.clientX, e.clientY);
        const targetBox = target && target.closest(".node");
        if (targetBox && targetBox.dataset.id !== node.id && connect(node.id, output, targetBox.dataset.id)) {
          this.hooks.changed();
        }
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    });
  }

  portPoint(node, output) {
    return { x: node.x + NODE_WIDTH, y: node.y + 24 + output * PORT_GAP + 7 };
  }

  renderEdges() {
    this.svg.replaceChildren();
    let width = 800;
    let height = 400;
    for (const node of workflow.nodes) {
      width = Math.max(width, node.x + NODE_WIDTH + 80);
      height = Math.max(height, node.y + 160);
    }
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    for (const edge of workflow.edges) {
      const from = nodeById(edge.from);
      const to = nodeById(edge.to);
      if (!from || !to) continue;
      const start = this.portPoint(from, edge.output);
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("class", "edge");
      path.setAttribute("d", curve(start.x, start.y, to.x, to.y + 32));
      path.dataset.from = from.name;
      path.dataset.to = to.name;
      path.dataset.output = String(edge.output);
      this.svg.append(path);
    }
  }
}

function curve(x1, y1, x2, y2) {
  const bend = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}
