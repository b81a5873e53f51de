// skillstack Playground: calls to this server's /v1 API with the key the user pasted.
// The key is kept in sessionStorage (gone with the tab), sent as a Bearer header, never put in a URL.

const KEY_STORE = "skillstack-api-key";
let apiKey = sessionStorage.getItem(KEY_STORE) || "";

export const $ = (id) => document.getElementById(id);

export function currentKey() { return apiKey; }

export function useKey(key) { apiKey = key; }

// Remembered for the tab only once the server accepted it.
export function keepKey() { sessionStorage.setItem(KEY_STORE, apiKey); }

export class ApiError extends Error {}

export async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${apiKey}`, ...(options.headers || {}) };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = { ...options, body: JSON.stringify(options.json) };
  }
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error.message || message; } catch (_) { /* not OpenAI's shape */ }
    throw new ApiError(message);
  }
  return options.raw ? response : response.json();
}

// OpenAI's chat.completion.chunk events, one `data:` line each, "[DONE]" last; resolves to the graph's
// decision (the `skillstack` field of its last content chunk), or null for a single model.
export async function streamChat(body, onText) {
  let decision = null;
  const response = await api("/v1/chat/completions", { method: "POST", json: { ...body, stream: true }, raw: true });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return decision;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return decision;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new ApiError(chunk.error.message);
        if (chunk.skillstack) decision = chunk.skillstack;
        const text = chunk.choices && chunk.choices[0] && chunk.choices[0].delta.content;
        if (text) onText(text);
      }
    }
  }
}
