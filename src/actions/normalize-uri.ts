// The URI normalizers of `http-request normalize-uri` (configuration.txt 4.4). Each returns the
// new request target, or null when a "strict" normalizer finds an invalid sequence (400).
import { splitUri } from './http-actions.js';

export interface Normalizer {
  /** the optional word after the name ("full", "strict") */
  option?: string;
  apply(uri: string, withOption: boolean): string | null;
}

const HEX = /[0-9A-Fa-f]/;

function onPath(uri: string, fn: (path: string) => string | null): string | null {
  const u = splitUri(uri);
  if (u.path === '') return uri;
  const p = fn(u.path);
  return p === null ? null : u.pre + p + u.query;
}

function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

/** Rewrites every valid %XX of `uri` with `f(XX)`; an invalid '%' is kept, or null when strict. */
function mapPercent(uri: string, strict: boolean, f: (hex: string) => string): string | null {
  let out = '';
  for (let i = 0; i < uri.length; i++) {
    const c = uri[i]!;
    if (c !== '%') { out += c; continue; }
    const h = uri.slice(i + 1, i + 3);
    if (h.length < 2 || !HEX.test(h[0]!) || !HEX.test(h[1]!)) {
      if (strict) return null;
      out += c;
      continue;
    }
    out += f(h);
    i += 2;
  }
  return out;
}

export const normalizers: Record<string, Normalizer> = {
  'fragment-encode': { apply: (uri) => uri.replace(/#/g, '%23') },
  'fragment-strip': {
    apply: (uri) => { const i = uri.indexOf('#'); return i < 0 ? uri : uri.slice(0, i); },
  },
  'path-merge-slashes': { apply: (uri) => onPath(uri, (p) => p.replace(/\/{2,}/g, '/')) },
  'path-strip-dot': {
    apply: (uri) => onPath(uri, (p) => {
      const segs = p.split('/');
      // segs[0] is '' (the path starts with '/'); a trailing "." keeps the trailing slash
      const out: string[] = [segs[0]!];
      for (let i = 1; i < segs.length; i++) {
        const s = segs[i]!;
        if (s === '.') { if (i === segs.length - 1) out.push(''); continue; }
        out.push(s);
      }
      const r = out.join('/');
      return r === '' ? '/' : r;
    }),
  },
  'path-strip-dotdot': {
    option: 'full',
    apply: (uri, full) => onPath(uri, (p) => {
      const segs = p.split('/').slice(1);
      const out: string[] = [];
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i]!;
        const last = i === segs.length - 1;
        if (s === '..') {
          if (out.length && out[out.length - 1] !== '..') out.pop();
          else if (!full) out.push('..');
          if (last) out.push('');
          continue;
        }
        out.push(s);
      }
      return '/' + out.join('/');
    }),
  },
  // %XX sequences: decoded when unreserved / upper-cased; an invalid one is kept, or refused (strict)
  'percent-decode-unreserved': { option: 'strict', apply: (uri, strict) => mapPercent(uri, strict, (h) => { const code = parseInt(h, 16); return isUnreserved(code) ? String.fromCharCode(code) : '%' + h; }) },
  'percent-to-uppercase': { option: 'strict', apply: (uri, strict) => mapPercent(uri, strict, (h) => '%' + h.toUpperCase()) },
  'query-sort-by-name': {
    apply: (uri) => {
      const q = uri.indexOf('?');
      if (q < 0) return uri;
      const hash = uri.indexOf('#', q);
      const qs = hash < 0 ? uri.slice(q + 1) : uri.slice(q + 1, hash);
      const params = qs.split('&').map((p, i) => ({ p, name: p.split('=')[0]!, i }));
      params.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
      return uri.slice(0, q + 1) + params.map((x) => x.p).join('&') + (hash < 0 ? '' : uri.slice(hash));
    },
  },
};
