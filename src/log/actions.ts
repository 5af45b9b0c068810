// Logging actions (configuration.txt 4.3): `set-log-level <level>|silent` changes the level of
// the current request's log line (or suppresses it); `do-log` emits a log line at once with the
// proxy's format, reporting where it was triggered through %OG.
import { registerAction, Act, type RuleSetKind } from '../actions/rules.js';
import { levelIndex } from './syslog.js';
import { logStream } from './emit.js';
import type { StreamInfo } from '../sample/context.js';

registerAction({
  name: 'set-log-level',
  sets: ['tcp-request content', 'tcp-response content', 'http-request', 'http-response', 'http-after-response'],
  parse(words) {
    const l = words[1];
    const level = l === 'silent' ? -2 : l !== undefined ? levelIndex(l) : -1;
    if (words.length !== 2 || level === -1) return `expects exactly 1 argument (log level name or 'silent')`;
    return { name: 'set-log-level', run(h) { h.ctx.logLevel = level; return Act.CONT; } };
  },
});

const ORIGIN: Partial<Record<RuleSetKind, string>> = {
  'tcp-request connection': 'tcp-req-conn', 'tcp-request session': 'tcp-req-sess', 'tcp-request content': 'tcp-req-cont',
  'tcp-response content': 'tcp-res-cont', 'http-request': 'http-req', 'http-response': 'http-res', 'http-after-response': 'http-after-res',
};

registerAction({
  name: 'do-log',
  sets: ['tcp-request connection', 'tcp-request session', 'tcp-request content', 'tcp-response content', 'http-request', 'http-response', 'http-after-response'],
  parse(words, pc) {
    if (words.length !== 1) return `doesn't expect any argument`;
    const origin = ORIGIN[pc.set] ?? 'unspec';
    return {
      name: 'do-log',
      run(h) {
        const ctx = h.ctx;
        const st = ctx.stream as (StreamInfo & { logOrigin?: string }) | undefined;
        const prev = st?.logOrigin;
        if (st) st.logOrigin = origin;
        try {
          logStream(h.fe, ctx, { error: false, empty: false });
        } finally {
          if (st) st.logOrigin = prev;
        }
        return Act.CONT;
      },
    };
  },
});
