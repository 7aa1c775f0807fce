// n8n's displayOptions: which parameters are shown for the values chosen so far. The server
// applies the same rules when it checks and runs the workflow (description/visibility.py);
// this copy only decides what the panel draws and which values the page sends.

export function latestVersion(description) {
  const v = description.version;
  return Array.isArray(v) ? Math.max(...v) : v;
}

function matches(wanted, value) {
  if (wanted && typeof wanted === "object" && wanted._cnd) {
    const [op, arg] = Object.entries(wanted._cnd)[0];
    switch (op) {
      case "eq": return value === arg;
      case "not": return value !== arg;
      case "gte": return value >= arg;
      case "lte": return value <= arg;
      case "gt": return value > arg;
      case "lt": return value < arg;
      case "between": return value >= arg.from && value <= arg.to;
      case "startsWith": return typeof value === "string" && value.startsWith(arg);
      case "endsWith": return typeof value === "string" && value.endsWith(arg);
      case "includes": return typeof value === "string" && value.includes(arg);
      case "regex": return typeof value === "string" && new RegExp(arg).test(value);
      case "exists": return value !== undefined && value !== null && value !== "";
      default: return false;
    }
  }
  return wanted === value;
}

// lookup(name) -> the current value of a sibling (or, with a leading "/", a root) parameter.
export function isShown(prop, lookup, version) {
  const options = prop.displayOptions;
  if (!options) return true;
  const valueOf = (key) => (key === "@version" ? version : lookup(key));
  for (const [key, wanted] of Object.entries(options.show || {})) {
    if (!wanted.some((w) => matches(w, valueOf(key)))) return false;
  }
  for (const [key, wanted] of Object.entries(options.hide || {})) {
    if (wanted.some((w) => matches(w, valueOf(key)))) return false;
  }
  return true;
}

// A parameter's value: the one given, else the default of its definition that is shown (with
// several definitions of one name, as "operation" has per resource, the shown one counts).
function valueLookup(properties, values, version) {
  const resolving = new Set();
  const lookup = (name) => {
    const key = name.replace(/^\//, "");
    if (values[key] !== undefined) return values[key];
    if (resolving.has(key)) return undefined;
    resolving.add(key);
    try {
      const shown = properties.find((p) => p.name === key && isShown(p, lookup, version));
      return shown ? shown.default : undefined;
    } finally {
      resolving.delete(key);
    }
  };
  return lookup;
}

export function currentValueOf(description, values, name, typeVersion) {
  const version = typeVersion ?? latestVersion(description);
  return valueLookup(description.properties, values, version)(name);
}

// After a choice changes, a value another choice no longer offers (an operation of the old
// resource) falls back to its default, as in n8n.
export function dropStaleChoices(description, values, typeVersion) {
  for (const prop of shownProperties(description, values, typeVersion)) {
    if (prop.type !== "options" || values[prop.name] === undefined) continue;
    const value = values[prop.name];
    if (typeof value === "string" && value.startsWith("=")) continue;
    if (!(prop.options || []).some((o) => o.value === value)) {
      delete values[prop.name];
      return dropStaleChoices(description, values, typeVersion);
    }
  }
  return values;
}

export function shownProperties(description, values, typeVersion) {
  const version = typeVersion ?? latestVersion(description);
  const props = description.properties;
  const lookup = valueLookup(props, values, version);
  const shown = [];
  const seen = new Set();
  for (const prop of props) {
    if (seen.has(prop.name)) continue; // the first shown definition of a name wins
    if (isShown(prop, lookup, version)) {
      shown.push(prop);
      seen.add(prop.name);
    }
  }
  return shown;
}

// The values to send: only parameters that are shown (the server refuses hidden ones).
export function visibleParameters(description, values, typeVersion) {
  const out = {};
  for (const prop of shownProperties(description, values, typeVersion)) {
    if (values[prop.name] === undefined) continue;
    let value = values[prop.name];
    if (prop.type === "collection" && value && typeof value === "object" && !Array.isArray(value)) {
      const names = new Set((prop.options || []).map((o) => o.name));
      value = Object.fromEntries(Object.entries(value).filter(([k]) => names.has(k)));
    }
    out[prop.name] = value;
  }
  return out;
}
