// The parameters panel, generated from the node's description alone (n8n's rules: resource and
// operation choices, displayOptions, options, booleans, bounded numbers, collections with
// "Add field", required markers, help, a fixed/expression toggle per field, live previews).
import { api } from "./api.js";
import { disconnect, nodeById, nodeOutputs, types, workflow } from "./model.js";
import { dropStaleChoices, latestVersion, shownProperties } from "./visibility.js";

// Types the panel edits as JSON text: structured values (conditions, assignments).
const STRUCTURED = new Set(["filter", "assignmentCollection", "fixedCollection", "json", "resourceMapper"]);
const NO_EXPRESSION = new Set(["notice", "collection", "filter", "assignmentCollection", "fixedCollection"]);

let uid = 0;
const fieldId = (path) => `f-${path.replace(/[^A-Za-z0-9_-]/g, "_")}-${++uid}`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && key !== "list") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export const isExpression = (v) => typeof v === "string" && v.startsWith("=");

export class Panel {
  constructor(root, title, hooks) {
    this.root = root;
    this.title = title;
    this.hooks = hooks; // { changed(node, {structure}), rename(node, name), remove(node), sample() }
    this.node = null;
    this.errors = [];
    this.timers = new Map();
  }

  show(node, errors = []) {
    this.node = node;
    this.errors = errors;
    this.render();
  }

  render(focusPath) {
    const node = this.node;
    this.root.replaceChildren();
    if (!node) {
      this.title.textContent = "Parameters";
      this.root.append(el("p", { class: "help", text: "Select a node to edit its parameters." }));
      return;
    }
    const type = types.get(node.type);
    const description = type.description;
    this.title.textContent = `${description.displayName} parameters`;
    this.root.append(el("p", { class: "help", text: description.description }));
    for (const error of this.errors.filter((e) => !e.field)) {
      this.root.append(el("p", { class: "error", role: "alert", text: error.message }));
    }
    const nameId = fieldId("name");
    const nameInput = el("input", { id: nameId, type: "text", value: node.name });
    nameInput.addEventListener("change", () => this.hooks.rename(node, nameInput.value.trim()));
    this.root.append(el("div", { class: "field" }, el("label", { for: nameId, text: "Node name" }), nameInput));

    const values = node.parameters;
    const version = node.typeVersion ?? latestVersion(description);
    for (const prop of shownProperties(description, values, version)) {
      this.root.append(this.field(prop, values, prop.name, description.properties, version));
    }
    this.root.append(this.connections(node));
    const onErrorId = fieldId("onError");
    const onError = el(
      "select",
      {
        id: onErrorId,
        onchange: (e) => {
          node.onError = e.target.value;
          // Without an error output, its connections go too.
          const count = nodeOutputs(node).length;
          for (const edge of workflow.edges.filter((x) => x.from === node.id && x.output >= count)) disconnect(edge);
          this.hooks.changed(node, { structure: true });
        },
      },
      ...[
        ["stopWorkflow", "Stop workflow"],
        ["continueRegularOutput", "Continue (error items in the output)"],
        ["continueErrorOutput", "Continue (using error output)"],
      ].map(([value, text]) => el("option", { value, text, selected: (node.onError || "stopWorkflow") === value })),
    );
    this.root.append(el("div", { class: "field settings" }, el("label", { for: onErrorId, text: "On error" }), onError));
    this.root.append(
      el("button", { type: "button", class: "danger", text: `Delete node ${node.name}`, onclick: () => this.hooks.remove(node) }),
    );
    if (focusPath) {
      const target = this.root.querySelector(`[data-path="${CSS.escape(focusPath)}"]`);
      if (target) target.focus();
    }
  }

  field(prop, values, path, siblings, version) {
    const id = fieldId(path);
    const wrapper = el("div", { class: "field", "data-field": path });
    if (prop.type === "notice") {
      wrapper.append(el("p", { class: "notice", text: prop.displayName }));
      return wrapper;
    }
    const helpId = `${id}-help`;
    const label = el("label", { for: id }, prop.displayName);
    if (prop.required) label.append(el("span", { class: "required", "aria-hidden": "true", text: " *" }));
    const head = el("div", { class: "field-head" }, label);
    wrapper.append(head);
    const value = values[prop.name] !== undefined ? values[prop.name] : prop.default;
    const expression = isExpression(value);
    const set = (v, structure = false) => {
      values[prop.name] = v;
      if (structure && values === this.node.parameters) {
        dropStaleChoices(types.get(this.node.type).description, values, this.node.typeVersion);
      }
      this.hooks.changed(this.node, { structure });
      if (structure) this.render(path);
    };
    if (!NO_EXPRESSION.has(prop.type) && !prop.noDataExpression) {
      const toggle = el("button", {
        type: "button",
        class: "mode",
        "aria-pressed": String(expression),
        "aria-label": `Expression mode for ${prop.displayName}`,
        text: expression ? "Expression" : "Fixed",
        onclick: () => {
          if (expression) {
            const fixed = String(value).slice(1).replace(/^\{\{\s*|\s*\}\}$/g, "");
            set(prop.type === "options" ? prop.default : fixed, true);
          } else {
            set(`=${value === undefined || value === null ? "" : value}`, true);
          }
          const again = this.root.querySelector(`[data-path="${CSS.escape(path)}"]`);
          if (again) again.focus();
        },
      });
      head.append(toggle);
    }
    let control;
    const common = { id, "data-path": path, "aria-describedby": helpId, "aria-required": prop.required ? "true" : undefined };
    if (expression) {
      control = el("textarea", { ...common, rows: 2, spellcheck: false, class: "expression", value: value.slice(1) });
      const preview = el("output", { class: "preview", "aria-live": "polite", for: id, "aria-label": `Preview of ${prop.displayName}` });
      control.addEventListener("input", () => {
        values[prop.name] = `=${control.value}`;
        this.hooks.changed(this.node, { structure: false });
        this.preview(path, values[prop.name], preview);
      });
      wrapper.append(control, preview);
      this.preview(path, value, preview);
    } else if (prop.type === "options") {
      control = el(
        "select",
        { ...common, onchange: () => set(prop.options[control.selectedIndex].value, true) },
        ...(prop.options || []).map((o) => el("option", { text: o.name, selected: o.value === value, title: o.description || undefined })),
      );
      wrapper.append(control);
    } else if (prop.type === "multiOptions") {
      const chosen = Array.isArray(value) ? value : [];
      control = el(
        "select",
        { ...common, multiple: true, onchange: () => set([...control.selectedOptions].map((o) => prop.options[o.index].value), true) },
        ...(prop.options || []).map((o) => el("option", { text: o.name, selected: chosen.includes(o.value) })),
      );
      wrapper.append(control);
    } else if (prop.type === "boolean") {
      control = el("input", { ...common, type: "checkbox", checked: Boolean(value), onchange: () => set(control.checked, true) });
      wrapper.append(control);
      wrapper.classList.add("inline");
    } else if (prop.type === "number") {
      const opts = prop.typeOptions || {};
      control = el("input", {
        ...common,
        type: "number",
        value: value ?? "",
        min: opts.minValue,
        max: opts.maxValue,
        step: opts.numberPrecision ? 10 ** -opts.numberPrecision : "any",
        oninput: () => {
          values[prop.name] = control.value === "" ? undefined : Number(control.value);
          this.hooks.changed(this.node, { structure: false });
        },
      });
      wrapper.append(control);
      if (opts.minValue !== undefined || opts.maxValue !== undefined) {
        wrapper.append(el("p", { class: "help", text: `From ${opts.minValue ?? "−∞"} to ${opts.maxValue ?? "∞"}` }));
      }
    } else if (prop.type === "collection") {
      wrapper.append(this.collection(prop, values, path, id, helpId, version));
      control = null;
    } else if (STRUCTURED.has(prop.type)) {
      control = el("textarea", { ...common, rows: 6, spellcheck: false, class: "json", value: JSON.stringify(value ?? null, null, 2) });
      control.addEventListener("change", () => {
        try {
          set(JSON.parse(control.value));
        } catch {
          wrapper.append(el("p", { class: "error", role: "alert", text: `${prop.displayName}: not valid JSON` }));
        }
      });
      wrapper.append(control, el("p", { class: "help", text: "Edited as JSON, as n8n saves it." }));
    } else {
      const opts = prop.typeOptions || {};
      const attrs = { ...common, value: value ?? "", placeholder: prop.placeholder };
      control = opts.rows
        ? el("textarea", { ...attrs, rows: opts.rows })
        : el("input", { ...attrs, type: opts.password ? "password" : "text", autocomplete: "off" });
      control.addEventListener("input", () => {
        values[prop.name] = control.value;
        this.hooks.changed(this.node, { structure: false });
      });
      wrapper.append(control);
    }
    if (prop.description) wrapper.append(el("p", { id: helpId, class: "help", text: prop.description }));
    for (const error of this.errors.filter((e) => e.field === path || (e.field || "").startsWith(`${path}.`))) {
      wrapper.classList.add("invalid");
      if (control) control.setAttribute("aria-invalid", "true");
      wrapper.append(el("p", { class: "error", role: "alert", text: error.message }));
    }
    return wrapper;
  }

  // The connections into this node, each removable (the keyboard's way to undo a drag).
  connections(node) {
    const box = el("div", { class: "field connections", role: "group", "aria-label": "Inputs" });
    box.append(el("p", { class: "label", text: "Inputs" }));
    const incoming = workflow.edges.filter((e) => e.to === node.id);
    if (!incoming.length) box.append(el("p", { class: "help", text: "None: it reads the input items." }));
    for (const edge of incoming) {
      const source = nodeById(edge.from);
      const label = `${source.name}${edge.output ? ` (output ${edge.output})` : ""}`;
      box.append(
        el(
          "p",
          {},
          `From ${label} `,
          el("button", {
            type: "button",
            class: "remove",
            text: "Disconnect",
            "aria-label": `Disconnect ${label} from ${node.name}`,
            onclick: () => {
              disconnect(edge);
              this.hooks.changed(node, { structure: true });
              this.render();
            },
          }),
        ),
      );
    }
    return box;
  }

  collection(prop, values, path, id, helpId, version) {
    const box = el("div", { class: "collection", role: "group", "aria-label": prop.displayName });
    const current = values[prop.name] && typeof values[prop.name] === "object" ? values[prop.name] : {};
    const options = prop.options || [];
    for (const option of options) {
      if (current[option.name] === undefined) continue;
      const row = this.field(option, current, `${path}.${option.name}`, options, version);
      row.append(
        el("button", {
          type: "button",
          class: "remove",
          text: "Remove",
          "aria-label": `Remove ${option.displayName}`,
          onclick: () => {
            delete current[option.name];
            values[prop.name] = current;
            this.hooks.changed(this.node, { structure: true });
            this.render(path);
          },
        }),
      );
      box.append(row);
    }
    const missing = options.filter((o) => current[o.name] === undefined);
    if (missing.length) {
      const add = el(
        "select",
        {
          id,
          "data-path": path,
          "aria-label": `${prop.placeholder || "Add field"} to ${prop.displayName}`,
          "aria-describedby": helpId,
          onchange: () => {
            const option = missing[add.selectedIndex - 1];
            if (!option) return;
            current[option.name] = structuredClone(option.default ?? "");
            values[prop.name] = current;
            this.hooks.changed(this.node, { structure: true });
            this.render(`${path}.${option.name}`);
          },
        },
        el("option", { text: prop.placeholder || "Add field", value: "" }),
        ...missing.map((o) => el("option", { text: o.displayName })),
      );
      box.append(add);
    }
    return box;
  }

  preview(path, source, output) {
    clearTimeout(this.timers.get(path));
    this.timers.set(
      path,
      setTimeout(async () => {
        const { item, index } = this.hooks.sample(this.node);
        try {
          const result = await api("POST", "/api/preview", { expression: source, item, itemIndex: index, parameter: path });
          output.classList.toggle("error", Boolean(result.error));
          output.textContent = result.error ? result.error : `= ${typeof result.value === "string" ? result.value : JSON.stringify(result.value)}`;
        } catch (error) {
          output.textContent = error.message;
        }
      }, 150),
    );
  }
}
