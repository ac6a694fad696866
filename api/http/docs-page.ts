/**
 * GET /docs: a readable API reference rendered from openapi.yaml by this small
 * renderer, as one self-contained HTML page (inline CSS, no script, no CDN),
 * so it works on a host with no internet. It shows what an operator needs:
 * each operation (method, path, summary, parameters, body, responses) and
 * each schema's fields with their types and constraints. Rendered once at
 * start-up; everything taken from the spec is HTML-escaped.
 */
import { parse as parseYaml } from 'yaml';

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

export function renderDocsPage(specText: string): string {
  const spec = parseYaml(specText) as Json;
  const info = (spec.info ?? {}) as Json;
  const title = String(info.title ?? 'API');
  const paths = (spec.paths ?? {}) as Record<string, Json>;
  const schemas = (((spec.components ?? {}) as Json).schemas ?? {}) as Record<string, Json>;
  const parameters = (((spec.components ?? {}) as Json).parameters ?? {}) as Record<string, Json>;

  const operations: string[] = [];
  const index: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const id = String(op.operationId ?? `${method}-${path}`);
      index.push(`<li><a href="#op-${esc(id)}"><span class="m ${method}">${method.toUpperCase()}</span> ${esc(path)}</a></li>`);
      const params = [...asList(item.parameters), ...asList(op.parameters)].map((p) => deref(p, parameters));
      const body = (((op.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined;
      const responses = Object.entries((op.responses ?? {}) as Record<string, Json>);
      operations.push(`<section class="op" id="op-${esc(id)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code> <small>${esc(id)}${Array.isArray(op.security) && op.security.length === 0 ? ' · no token' : ''}</small></h3>
<p>${esc(String(op.summary ?? ''))}</p>
${params.length === 0 ? '' : `<table><tr><th>parameter</th><th>in</th><th>type</th><th>about</th></tr>${params
        .map((p) => `<tr><td><code>${esc(String(p.name))}</code></td><td>${esc(String(p.in))}</td><td>${typeOf(p.schema as Json | undefined)}</td><td>${esc(String(p.description ?? ''))}</td></tr>`)
        .join('')}</table>`}
${body ? `<p>Body: ${typeOf(body)}</p>` : ''}
<p>Responses: ${responses
        .map(([code, r]) => {
          const ref = typeof r.$ref === 'string' ? r.$ref.split('/').pop() : undefined;
          const schema = ((r.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined;
          return `<code>${esc(code)}</code> ${ref ? esc(ref) : esc(String(r.description ?? ''))}${schema ? ` (${typeOf(schema)})` : ''}`;
        })
        .join(' · ')}</p>
</section>`);
    }
  }

  const schemaSections = Object.entries(schemas).map(([name, schema]) => {
    const props = Object.entries((schema.properties ?? {}) as Record<string, Json>);
    const required = new Set(asList(schema.required).map(String));
    return `<section class="schema" id="schema-${esc(name)}">
<h3>${esc(name)}${typeof schema.$ref === 'string' ? ` = ${typeOf(schema)}` : ''}</h3>
${schema.description ? `<p>${esc(String(schema.description))}</p>` : ''}
${props.length === 0 ? (schema.$ref ? '' : `<p>${typeOf(schema)}</p>`) : `<table><tr><th>field</th><th>type</th><th>about</th></tr>${props
      .map(([prop, s]) => `<tr><td><code>${esc(prop)}</code>${required.has(prop) ? ' <b title="required">*</b>' : ''}</td><td>${typeOf(s)}</td><td>${esc(String(s.description ?? ''))}</td></tr>`)
      .join('')}</table>${schema.additionalProperties === false ? '<p class="note">No other fields are accepted.</p>' : ''}`}
</section>`;
  });

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{font-family:ui-monospace,monospace;font-size:90%}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
.m{display:inline-block;min-width:4.2rem;font:bold 80% ui-monospace,monospace;color:#fff;padding:.1rem .3rem;border-radius:3px;text-align:center}
.get{background:#2b6cb0}.post{background:#2f855a}.put{background:#b7791f}.delete{background:#c53030}.patch{background:#6b46c1}
section{border-top:1px solid #eee;padding:.3rem 0}small{color:#777}.note{color:#555;font-size:90%}ul.ix{columns:2;list-style:none;padding:0}
</style></head><body>
<h1>${esc(title)} <small>${esc(String(info.version ?? ''))}</small></h1>
${paragraphs(String(info.description ?? ''))}
<p>The machine-readable description is at <a href="/openapi.yaml">/openapi.yaml</a>.</p>
<h2>Operations</h2><ul class="ix">${index.join('')}</ul>
${operations.join('\n')}
<h2>Schemas</h2>
${schemaSections.join('\n')}
</body></html>
`;
}

function typeOf(schema: Json | undefined): string {
  if (!schema) return 'any';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() ?? schema.$ref;
    return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
  }
  const notes: string[] = [];
  if (Array.isArray(schema.enum)) notes.push(`one of ${schema.enum.map((v) => esc(String(v))).join(', ')}`);
  if (typeof schema.pattern === 'string') notes.push(`pattern <code>${esc(schema.pattern)}</code>`);
  if (typeof schema.format === 'string') notes.push(esc(schema.format));
  if (schema.minimum !== undefined || schema.maximum !== undefined) notes.push(`${esc(String(schema.minimum ?? '…'))} to ${esc(String(schema.maximum ?? '…'))}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) notes.push(`length ${esc(String(schema.minLength ?? 0))} to ${esc(String(schema.maxLength ?? '…'))}`);
  if (schema.default !== undefined) notes.push(`default ${esc(String(schema.default))}`);
  let base = esc(String(schema.type ?? 'any'));
  if (schema.type === 'array') base = `array of ${typeOf(schema.items as Json | undefined)}`;
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    base = `map of ${typeOf(schema.additionalProperties as Json)}`;
  }
  return notes.length === 0 ? base : `${base} (${notes.join('; ')})`;
}

function deref(value: Json, parameters: Record<string, Json>): Json {
  const ref = value.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/parameters/')) return parameters[ref.split('/').pop()!] ?? value;
  return value;
}

function asList(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function paragraphs(text: string): string {
  return text
    .split(/\n\s*\n/)
    .filter((p) => p.trim() !== '')
    .map((p) => `<p>${esc(p.trim()).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('\n');
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
