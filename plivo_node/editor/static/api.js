// The server's API: every call carries this session's secret (from the URL the CLI printed).
const params = new URLSearchParams(location.search);
const secret = params.get("s") || sessionStorage.getItem("plivo-node-editor") || "";
sessionStorage.setItem("plivo-node-editor", secret);
// Keep the secret out of the address bar (and of anything that copies it) once read.
history.replaceState(null, "", location.pathname);

export class ApiError extends Error {
  constructor(body) {
    super(body.error || "request failed");
    this.problems = body.problems || [];
  }
}

export async function api(method, path, body) {
  const options = { method, headers: { "X-Editor-Session": secret } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new ApiError(data);
  return data;
}
