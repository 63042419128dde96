/**
 * End-of-attempt markers on a process worker's stdout and stderr pipes. Output written by the task through
 * process.stdout/stderr travels over IPC, but native code (or fs.writeSync(1, ...)) writes straight to the pipes,
 * which are separate channels with no ordering against IPC. Before sending an attempt's result the worker writes a
 * marker on both pipes; the engine delivers the result only once it has read both markers, so all of the attempt's
 * output is delivered before its result. Markers are removed from the text.
 */
const PREFIX = '\u0000\u0001baton-end:';
const END = '\u0000';

export function endMarker(id: number): string {
  return `${PREFIX}${id}${END}`;
}

/** Splits a pipe's decoded text into output and markers. Holds back a possibly partial marker between chunks. */
export class MarkerSplitter {
  private held = '';

  constructor(
    private readonly text: (text: string) => void,
    private readonly marker: (id: number) => void,
  ) {}

  push(chunk: string): void {
    let s = this.held ? this.held + chunk : chunk;
    this.held = '';
    for (;;) {
      const i = s.indexOf(PREFIX);
      if (i < 0) {
        // The tail may be the start of a marker split across chunks.
        const j = s.lastIndexOf('\u0000');
        if (j >= 0 && PREFIX.startsWith(s.slice(j))) {
          this.held = s.slice(j);
          s = s.slice(0, j);
        }
        if (s) this.text(s);
        return;
      }
      const end = s.indexOf(END, i + PREFIX.length);
      if (end < 0) {
        if (i > 0) this.text(s.slice(0, i));
        this.held = s.slice(i);
        return;
      }
      if (i > 0) this.text(s.slice(0, i));
      const id = Number(s.slice(i + PREFIX.length, end));
      if (Number.isInteger(id)) this.marker(id);
      else this.text(s.slice(i, end + 1));
      s = s.slice(end + 1);
      if (!s) return;
    }
  }

  /** Emits whatever is held back (the stream ended). */
  flush(): void {
    if (this.held) this.text(this.held);
    this.held = '';
  }
}
