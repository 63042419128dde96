/**
 * Captures what tasks print. process.stdout/stderr are patched once; a write made inside a task's async context
 * (AsyncLocalStorage) goes to that attempt's log instead of the terminal. Writes outside any task pass through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

type Sink = (stream: 'stdout' | 'stderr', text: string) => void;

const storage = new AsyncLocalStorage<Sink>();
let installed = false;

function patch(stream: NodeJS.WriteStream, name: 'stdout' | 'stderr'): void {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const sink = storage.getStore();
    if (!sink) return original(chunk, ...rest);
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    // The sink runs outside the task's context: a sink that itself writes to stdout (replay) must not loop.
    storage.exit(() => sink(name, text));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (cb) queueMicrotask(cb);
    return true;
  }) as typeof stream.write;
}

export function installCapture(): void {
  if (installed) return;
  installed = true;
  patch(process.stdout, 'stdout');
  patch(process.stderr, 'stderr');
}

/** Runs fn with output captured to sink. */
export function withCapture<T>(sink: Sink, fn: () => T): T {
  installCapture();
  return storage.run(sink, fn);
}
