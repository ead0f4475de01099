import type { FastifyInstance, RouteOptions } from 'fastify';

type Schema = Record<string, unknown>;

interface RouteSchema {
  params?: Schema;
  querystring?: Schema;
  headers?: Schema;
  body?: Schema;
  response?: Record<string, Schema>;
}

interface CollectedRoute {
  method: string;
  url: string;
  schema: RouteSchema;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  components: Record<string, unknown>;
  paths: Record<string, Record<string, unknown>>;
}

/**
 * Builds the OpenAPI 3.1 document from the routes' own fastify schemas, as they are registered:
 * the document cannot describe a route, a field or an error code the server does not validate or
 * send, because it is made of the same objects. (3.1 because its schemas are JSON Schema 2020-12,
 * so `if`/`then`, `const` and type arrays pass through unchanged.)
 *
 * Attach before any route is registered (`onRoute` sees only later ones).
 */
export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];
  private cached?: OpenApiDocument;

  constructor(private readonly version: string) {}

  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        // fastify adds a HEAD twin to every GET; it is the same route.
        if (method === 'HEAD') continue;
        this.routes.push({
          method: method.toLowerCase(),
          url: route.url,
          schema: (route.schema ?? {}) as RouteSchema,
        });
      }
      this.cached = undefined;
    });
  }

  /** Every route as `METHOD path` (fastify's `:param` form), for tests. */
  routeKeys(): string[] {
    return this.routes.map((r) => `${r.method.toUpperCase()} ${r.url}`);
  }

  document(): OpenApiDocument {
    this.cached ??= this.build();
    return this.cached;
  }

  private build(): OpenApiDocument {
    const paths: OpenApiDocument['paths'] = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op: Record<string, unknown> = { operationId: `${r.method} ${r.url}`, responses: responsesOf(r) };
      const parameters = [
        ...parametersOf(r.schema.params, 'path'),
        ...parametersOf(r.schema.querystring, 'query'),
        ...parametersOf(r.schema.headers, 'header'),
      ];
      if (parameters.length) op.parameters = parameters;
      if (r.schema.body)
        op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
      if (r.url.startsWith('/api/v1/')) op.security = [{ apiKey: [] }];
      (paths[path] ??= {})[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'mqim HTTP API',
        version: this.version,
        description:
          'Business-server API of mqim (docs/api.md). Errors are {"error": {"code", "message"}}; ' +
          'each response lists the codes it may carry.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'MQIM_API_KEY' } },
      },
      paths,
    };
  }
}

function parametersOf(schema: Schema | undefined, where: 'path' | 'query' | 'header'): unknown[] {
  const properties = (schema?.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
  }));
}

function responsesOf(r: CollectedRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(r.schema.response ?? {})) {
    const description =
      (schema.description as string | undefined) ?? (Number(status) < 400 ? 'success' : errorSummary(schema));
    out[status] =
      schema.type === 'null' ? { description } : { description, content: { 'application/json': { schema } } };
  }
  if (!Object.keys(out).length) out.default = { description: 'undocumented' };
  return out;
}

/** The error codes a response schema allows (`error.code`'s enum). */
export function errorCodesOf(schema: Schema | undefined): string[] {
  const error = (schema?.properties as Record<string, Schema> | undefined)?.error;
  const code = (error?.properties as Record<string, Schema> | undefined)?.code;
  return (code?.enum as string[] | undefined) ?? [];
}

function errorSummary(schema: Schema): string {
  const codes = errorCodesOf(schema);
  return codes.length ? codes.join(', ') : 'error';
}

/** A self-contained reference page (no scripts, no CDN): one section per route. */
export function renderReference(doc: OpenApiDocument): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const json = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
  const sections: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, raw] of Object.entries(ops)) {
      const op = raw as {
        parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
        requestBody?: { content: { 'application/json': { schema: unknown } } };
        responses: Record<
          string,
          { description: string; content?: { 'application/json': { schema: unknown } } }
        >;
      };
      const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : ''}</td><td><code>${esc(JSON.stringify(p.schema))}</code></td></tr>`,
        )
        .join('');
      const responses = Object.entries(op.responses)
        .map(
          ([status, r]) =>
            `<details><summary><b>${status}</b> ${esc(r.description)}</summary>${r.content ? json(r.content['application/json'].schema) : ''}</details>`,
        )
        .join('');
      sections.push(
        `<section id="${id}"><h2><span class="m">${method.toUpperCase()}</span> <code>${esc(path)}</code></h2>` +
          (params
            ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${params}</table>`
            : '') +
          (op.requestBody ? `<h3>body</h3>${json(op.requestBody.content['application/json'].schema)}` : '') +
          `<h3>responses</h3>${responses}</section>`,
      );
    }
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:auto}pre{background:#f4f4f4;padding:.5em;overflow:auto}
.m{background:#246;color:#fff;padding:0 .3em;border-radius:3px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style>
</head><body><h1>${esc(doc.info.title)} ${esc(doc.info.version)}</h1><p>${esc(doc.info.description)}
The machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p>${sections.join('\n')}</body></html>`;
}
