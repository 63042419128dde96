/**
 * How every Baton server answers an error: JSON `{ error: { code, message, fix? } }`. A BatonError's status comes
 * from HTTP_STATUS (src/errors.ts), the one table beside the CLI's exit codes. Protocol errors (no such route, a
 * method the route does not take, a body too large or of the wrong type, a timeout) are HttpErrors carrying the
 * status HTTP itself prescribes. Anything else is a Baton bug: 500, with the cause logged and not sent.
 */
import { BatonError, HTTP_STATUS, messageOf, type ErrorCode } from '../errors.ts';

/** A request the HTTP layer refuses before any route sees it. `status` is the protocol's (404, 405, 408, 413, 415). */
export class HttpError extends BatonError {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly fix?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, fix ? `${message} ${fix}` : message); // the message alone says what went wrong and the fix
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; fix?: string };
}

/** The status and body of an error; `bug` is true when it was not a BatonError (log it: it is Baton's fault). */
export function renderError(err: unknown): { status: number; body: ErrorBody; bug: boolean } {
  if (err instanceof HttpError) return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.fix ? { fix: err.fix } : {}) } }, bug: false };
  if (err instanceof BatonError) return { status: HTTP_STATUS[err.code], body: { error: { code: err.code, message: err.message } }, bug: err.code === 'internal' };
  return { status: 500, body: { error: { code: 'internal', message: `Internal error: ${messageOf(err)}. This is a bug in Baton; the server log has the details.` } }, bug: true };
}
