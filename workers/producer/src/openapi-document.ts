/**
 * An OpenAPI 3.1 document derived from route declarations (`createRoute`, see
 * `route-definition.ts`): one operation per declaration, with its parameters (the properties of
 * `request.params`, `query`, `headers`), request body and responses; the zod schemas named in
 * `components` appear as `$ref`s wherever a declaration uses them.
 *
 * Schemas go through zod's own converter (`z.toJSONSchema`: JSON Schema 2020-12, the input side),
 * the one the catalogue's JSON Schemas use, rather than `OpenAPIHono#getOpenAPI31Document`, whose
 * converter (@asteasolutions/zod-to-openapi) documents less than the code checks: it leaves
 * `data` out of a CloudEvent's `required`, drops the pattern of ISO timestamps and the bounds of
 * integers.
 *
 * A parameter's description is its schema's (`.describe()`, then on both, as zod-to-openapi does)
 * or `.meta({ param: { description } })` for the parameter only.
 */
import type { RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";

type JsonObject = Record<string, unknown>;

export interface OpenApiDocumentOptions {
  readonly info: JsonObject;
  readonly servers?: readonly JsonObject[];
  readonly securitySchemes?: Record<string, JsonObject>;
  /** zod schemas rendered under `components.schemas` with these names. */
  readonly components: ReadonlyArray<readonly [z.ZodType, string]>;
  /** Components given as JSON Schema; one named like a zod component replaces its rendering. */
  readonly jsonComponents?: Record<string, JsonObject>;
}

const COMPONENT_URI = "#/components/schemas/";
/** Ids of the schemas a declaration uses without naming them: rendered in place, never as components. */
const INLINE_ID = "edgebus-inline-";

function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

type Media = { schema?: unknown } & JsonObject;
type Content = Partial<Record<string, Media>>;

/** Every zod schema a declaration holds. */
function zodSchemasOf(route: RouteConfig): z.ZodType[] {
  const { request, responses } = route;
  const contents: Content[] = [];
  if (request?.body) contents.push(request.body.content as Content);
  for (const response of Object.values(responses)) {
    if ("content" in response && response.content) contents.push(response.content as Content);
  }
  const found: unknown[] = [request?.params, request?.query, request?.headers, request?.cookies];
  for (const content of contents) for (const media of Object.values(content)) found.push(media?.schema);
  return found.filter(isZodSchema);
}

/** Converts every schema of the declarations at once, so that named ones become `$ref`s. */
class SchemaRenderer {
  readonly #registry = z.registry<{ id: string }>();
  readonly #inline = new Map<z.ZodType, string>();
  #rendered: Record<string, JsonObject> = {};

  constructor(components: OpenApiDocumentOptions["components"], routes: readonly RouteConfig[]) {
    for (const [schema, name] of components) this.#registry.add(schema, { id: name });
    for (const schema of routes.flatMap(zodSchemasOf)) {
      if (this.#registry.has(schema)) continue;
      const id = `${INLINE_ID}${this.#inline.size}`;
      this.#inline.set(schema, id);
      this.#registry.add(schema, { id });
    }
    const { schemas } = z.toJSONSchema(this.#registry, {
      target: "draft-2020-12",
      io: "input",
      unrepresentable: "any",
      uri: (id) => `${COMPONENT_URI}${id}`,
    }) as { schemas: Record<string, JsonObject> };
    for (const schema of Object.values(schemas)) delete schema.$schema;
    this.#rendered = schemas;
  }

  /** The named components, in the order given. */
  components(components: OpenApiDocumentOptions["components"]): Record<string, JsonObject> {
    return Object.fromEntries(components.map(([, name]) => [name, this.#resolveInline(this.#rendered[name])]));
  }

  /** A declaration's schema: a `$ref` when it is named, else its JSON Schema. */
  render(schema: z.ZodType): JsonObject {
    const inline = this.#inline.get(schema);
    if (inline !== undefined) return this.#inlined(inline);
    const name = this.#registry.get(schema)?.id;
    if (name === undefined) throw new Error("a schema no declaration holds");
    return { $ref: `${COMPONENT_URI}${name}` };
  }

  #inlined(id: string): JsonObject {
    const { $id: _, ...schema } = this.#rendered[id] ?? {};
    return this.#resolveInline(schema) as JsonObject;
  }

  /** A `$ref` to an unnamed schema (one a declaration also uses elsewhere) is replaced by that schema. */
  #resolveInline(value: unknown): JsonObject {
    const walk = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(walk);
      if (typeof node !== "object" || node === null) return node;
      const { $ref, ...rest } = node as JsonObject;
      const siblings = Object.fromEntries(Object.entries(rest).map(([key, child]) => [key, walk(child)]));
      if (typeof $ref === "string" && $ref.startsWith(`${COMPONENT_URI}${INLINE_ID}`)) {
        return { ...this.#inlined($ref.slice(COMPONENT_URI.length)), ...siblings };
      }
      return $ref === undefined ? siblings : { $ref, ...siblings };
    };
    return walk(value) as JsonObject;
  }
}

function content(declared: Content, schemas: SchemaRenderer): JsonObject {
  return Object.fromEntries(
    Object.entries(declared).map(([mediaType, media]) => [
      mediaType,
      isZodSchema(media?.schema) ? { ...media, schema: schemas.render(media.schema) } : media,
    ]),
  );
}

/** The properties of an object schema as parameters in `location`. */
function parameters(container: unknown, location: string, schemas: SchemaRenderer): JsonObject[] {
  if (container === undefined) return [];
  if (!isZodSchema(container)) throw new Error(`${location} parameters must be one zod object`);
  const object = schemas.render(container) as { properties?: Record<string, JsonObject>; required?: string[] };
  if (object.properties === undefined) throw new Error(`${location} parameters must be a zod object, not a component`);
  return Object.entries(object.properties).map(([name, property]) => {
    const { param, ...schema } = property as { param?: { description?: unknown } } & JsonObject;
    const description = param?.description ?? schema.description;
    return {
      name,
      in: location,
      required: object.required?.includes(name) ?? false,
      schema,
      ...(typeof description === "string" ? { description } : {}),
    };
  });
}

function operation(route: RouteConfig, schemas: SchemaRenderer): JsonObject {
  const { method: _, path: __, request, responses, middleware: ___, hide: ____, ...documentation } = route;
  const params = [
    ...parameters(request?.params, "path", schemas),
    ...parameters(request?.query, "query", schemas),
    ...parameters(request?.headers, "header", schemas),
    ...parameters(request?.cookies, "cookie", schemas),
  ];
  const body = request?.body;
  return {
    ...documentation,
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(body === undefined ? {} : { requestBody: { ...body, content: content(body.content as Content, schemas) } }),
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, response]) => {
        if (isZodSchema((response as { headers?: unknown }).headers)) {
          throw new Error(`${route.method} ${route.path} ${status}: declare response headers as a HeadersObject`);
        }
        if (!("content" in response) || response.content === undefined) return [status, response];
        return [status, { ...response, content: content(response.content as Content, schemas) }];
      }),
    ),
  };
}

export function openApiDocument(routes: readonly RouteConfig[], options: OpenApiDocumentOptions): JsonObject {
  const schemas = new SchemaRenderer(options.components, routes);
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    paths[route.path] = item;
    if (item[route.method] !== undefined) throw new Error(`${route.method} ${route.path} is declared twice`);
    item[route.method] = operation(route, schemas);
  }
  return {
    openapi: "3.1.0",
    info: options.info,
    ...(options.servers === undefined ? {} : { servers: options.servers }),
    components: {
      ...(options.securitySchemes === undefined ? {} : { securitySchemes: options.securitySchemes }),
      schemas: { ...schemas.components(options.components), ...options.jsonComponents },
    },
    paths,
  };
}
