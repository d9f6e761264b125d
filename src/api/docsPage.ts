/**
 * /docs: the OpenAPI document as one self-contained HTML page (inline style, no scripts, nothing fetched
 * from elsewhere), so it reads the same offline.
 */

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Inline `code` spans of the descriptions. */
const prose = (s: string): string => esc(s).replace(/`([^`]+)`/g, "<code>$1</code>");

type Op = {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

function schemaBlock(schema: unknown): string {
  return `<details><summary>schema</summary><pre>${esc(JSON.stringify(schema, null, 2))}</pre></details>`;
}

export function docsPage(doc: {
  info: { title: string; description: string };
  paths: Record<string, Record<string, Op>>;
}): string {
  const sections: string[] = [];
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const auth = op.security?.length
        ? `<span class="auth">${esc(Object.keys(op.security[0]!)[0]!)}</span>`
        : `<span class="auth none">public</span>`;
      const params = op.parameters?.length
        ? `<p>Parameters: ${op.parameters.map((p) => `<code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ", required" : ""})`).join(", ")}</p>`
        : "";
      const body = op.requestBody
        ? `<h4>Request body</h4>${schemaBlock(op.requestBody.content["application/json"]!.schema)}`
        : "";
      const responses = Object.entries(op.responses)
        .map(
          ([status, r]) =>
            `<li><b>${esc(status)}</b> ${prose(r.description)}${Object.entries(r.content ?? {})
              .map(([type, c]) => ` <code>${esc(type)}</code>${schemaBlock(c.schema)}`)
              .join("")}</li>`,
        )
        .join("");
      const html = `<section id="${esc(method + path)}"><h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code> ${auth}</h3><p>${prose(op.summary ?? "")}</p>${op.description ? `<p>${prose(op.description)}</p>` : ""}${params}${body}<h4>Responses</h4><ul>${responses}</ul></section>`;
      const tag = op.tags?.[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  for (const [tag, ops] of byTag) sections.push(`<h2>${esc(tag)}</h2>${ops.join("")}`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(doc.info.title)} API</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;border-radius:3px}code{padding:0 .2em}pre{padding:.6em;overflow:auto}
section{border-top:1px solid #ddd;padding:.4rem 0}h3{margin:.6rem 0 .2rem}h4{margin:.5rem 0 .2rem}
.method{font-size:12px;padding:.1em .4em;border-radius:3px;color:#fff}.get{background:#2a7}.post{background:#27c}
.auth{font-size:12px;font-weight:normal;color:#a60;margin-left:.5em}.none{color:#888}details summary{cursor:pointer;color:#555}
</style></head><body><h1>${esc(doc.info.title)} API</h1><p>${prose(doc.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>${sections.join("")}</body></html>`;
}
