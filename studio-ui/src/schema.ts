import schemaJson from "./spec-schema.json";

// The team spec's JSON Schema as `parley spec schema` prints it (copied here by
// `npm run schema`; tests/studio/test_browser_build.py checks the copy is current). The builder's
// forms are generated from it, so a new spec setting shows up in the form without UI code.

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  $ref?: string;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  description?: string;
  title?: string;
  default?: unknown;
  minimum?: number;
  required?: string[];
}

export const schema = schemaJson as unknown as JsonSchema & { $defs: Record<string, JsonSchema> };

export function resolve(s: JsonSchema): JsonSchema {
  if (s.$ref) {
    const name = s.$ref.replace("#/$defs/", "");
    return schema.$defs[name] ?? {};
  }
  return s;
}

export function def(name: string): JsonSchema {
  return schema.$defs[name] ?? {};
}

/** The variants of a property that are not `null`. */
export function variants(s: JsonSchema): JsonSchema[] {
  const list = s.anyOf ?? [s];
  return list.filter((v) => v.type !== "null").map(resolve);
}
