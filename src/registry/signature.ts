/**
 * Model signatures: the JSON Schema of a model's input and output, derived from zod types (a task's input and
 * output schemas, or any zod type) with zod 4's `z.toJSONSchema`. Types JSON Schema cannot express (bytes,
 * handles' refinements) become `{}` rather than failing the registration.
 */
import { z } from 'zod';

/** What a signature needs of a task definition (src/sdk/task.ts): its two schemas. */
type Schemas = { readonly inputSchema: z.ZodType; readonly outputSchema: z.ZodType };

export interface ModelSignature {
  input?: unknown;
  output?: unknown;
}

const isZod = (v: unknown): v is z.ZodType => typeof v === 'object' && v !== null && '_zod' in v;

/** JSON Schema of a zod type (as the model receives it: the input side of transforms). */
export function jsonSchemaOf(type: z.ZodType): unknown {
  return z.toJSONSchema(type, { unrepresentable: 'any', io: 'input' });
}

/** A signature from zod types or JSON Schemas (passed through). */
export function signatureOf(s: { input?: z.ZodType | unknown; output?: z.ZodType | unknown }): ModelSignature {
  const out: ModelSignature = {};
  if (s.input !== undefined) out.input = isZod(s.input) ? jsonSchemaOf(s.input) : s.input;
  if (s.output !== undefined) out.output = isZod(s.output) ? jsonSchemaOf(s.output) : s.output;
  return out;
}

/** The signature of a task (the value `task(...)` returns, or its definition): its input and output schemas. */
export function signatureOfTask(task: { definition: Schemas } | Schemas): ModelSignature {
  const d = 'definition' in task ? task.definition : task;
  return signatureOf({ input: d.inputSchema, output: d.outputSchema });
}

/** What a registration may give as its signature: JSON Schemas or zod types, or a task (or its definition). */
export type SignatureSource = ModelSignature | { input?: unknown; output?: unknown } | Parameters<typeof signatureOfTask>[0];

/** The signature of any SignatureSource. */
export function toSignature(s: SignatureSource): ModelSignature {
  // A task is a function with a `definition`; its definition an object with both schemas.
  const isTask = (typeof s === 'function' || (typeof s === 'object' && s !== null)) && ('definition' in s || ('inputSchema' in s && 'outputSchema' in s));
  return isTask ? signatureOfTask(s as Parameters<typeof signatureOfTask>[0]) : signatureOf(s as { input?: unknown; output?: unknown });
}
