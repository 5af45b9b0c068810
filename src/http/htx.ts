// The version-neutral HTTP message model (after HAProxy's HTX, internals-api-htx-api.txt):
// a start line, an ordered header list, then data, trailers and end-of-message. The H1 codec
// (and later H2, FastCGI) convert between bytes and this model; everything between the codecs
// (the stream, rules, fetches, filters, logs) sees only this model and never a codec.

/** One header field as received: the name keeps its case for the wire, `lname` is for matching. */
export interface HttpHeader {
  name: string;
  /** lower-case name, precomputed once */
  lname: string;
  value: string;
}

/** An ordered, mutable header list. Lookups go by lower-case name. */
export class HttpHeaders {
  readonly list: HttpHeader[];

  constructor(list: HttpHeader[] = []) {
    this.list = list;
  }

  get size(): number { return this.list.length; }

  /** First value of a header (lname must be lower case), or undefined. */
  get(lname: string): string | undefined {
    const l = this.list;
    for (let i = 0; i < l.length; i++) if (l[i]!.lname === lname) return l[i]!.value;
    return undefined;
  }

  /** Every value of a header, in order. */
  getAll(lname: string): string[] {
    const out: string[] = [];
    for (const h of this.list) if (h.lname === lname) out.push(h.value);
    return out;
  }

  has(lname: string): boolean { return this.get(lname) !== undefined; }

  /** Appends a field at the end. */
  add(name: string, value: string): void {
    this.list.push({ name, lname: name.toLowerCase(), value });
  }

  /** Removes every field with that name; returns how many were removed. */
  delete(lname: string): number {
    const l = this.list;
    let w = 0;
    for (let r = 0; r < l.length; r++) if (l[r]!.lname !== lname) l[w++] = l[r]!;
    const n = l.length - w;
    l.length = w;
    return n;
  }

  /** Replaces every field of that name by one field at the place of the first (or at the end). */
  set(name: string, value: string): void {
    const lname = name.toLowerCase();
    const l = this.list;
    const i = l.findIndex((h) => h.lname === lname);
    if (i < 0) { l.push({ name, lname, value }); return; }
    l[i] = { name, lname, value };
    let w = i + 1;
    for (let r = i + 1; r < l.length; r++) if (l[r]!.lname !== lname) l[w++] = l[r]!;
    l.length = w;
  }

  /**
   * The comma-separated tokens of a list header (e.g. Connection), lower-cased, from every field
   * of that name.
   */
  tokens(lname: string): string[] {
    const out: string[] = [];
    for (const h of this.list) {
      if (h.lname !== lname) continue;
      for (const t of h.value.split(',')) {
        const v = t.trim().toLowerCase();
        if (v) out.push(v);
      }
    }
    return out;
  }

  clone(): HttpHeaders {
    return new HttpHeaders(this.list.map((h) => ({ ...h })));
  }
}

/** How a message body is delimited on the wire it came from (H1), or is to be sent on. */
export type BodyFraming =
  | { kind: 'none' }                    // no body (GET without length, HEAD/1xx/204/304 responses)
  | { kind: 'length'; length: number }  // Content-Length (length may be 0)
  | { kind: 'chunked' }                 // Transfer-Encoding: chunked
  | { kind: 'close' };                  // response body ends when the server closes

export interface HttpRequestHead {
  method: string;
  /** request target exactly as received (origin-form, absolute-form, authority-form or '*') */
  uri: string;
  /** 'HTTP/1.0' or 'HTTP/1.1' (HTTP/0.9 is refused) */
  version: string;
  headers: HttpHeaders;
}

export interface HttpResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HttpHeaders;
}

/** Minor version as a number: 0 for HTTP/1.0, 1 for HTTP/1.1. */
export function minorVersion(version: string): number {
  return version === 'HTTP/1.1' ? 1 : version === 'HTTP/1.0' ? 0 : version.charCodeAt(7) - 48;
}

/** A response status that never carries a body (RFC 9110 6.4.1). */
export function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}
