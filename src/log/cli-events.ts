// `show events [<sink>] [-w] [-n] [-0]` (management.txt 9.3): the event sinks, and the messages a
// ring holds, optionally waiting for new ones until the client sends anything.
import { registerCli } from '../registry/registry.js';
import type { CliSessionContext } from '../ops/cli-session.js';
import { rings } from './transports.js';

registerCli({
  words: ['show', 'events'], usage: 'show events [<sink>] [-w] [-n] [-0]', help: 'show event sink state', level: 'operator',
  async run(args, c) {
    const ctx = c as CliSessionContext;
    const name = args[2];
    if (name === undefined || name.startsWith('-')) {
      let out = 'Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n';
      out += `    ${'stdout'.padEnd(10)} : type=fd, 0 dropped, standard output (fd#1)\n`;
      out += `    ${'stderr'.padEnd(10)} : type=fd, 0 dropped, standard output (fd#2)\n`;
      for (const r of rings.values()) {
        if (r.cfg.implicit) continue;
        out += `    ${r.cfg.name.padEnd(10)} : type=buffer, ${r.dropped} dropped, ${r.cfg.description ?? r.cfg.name}\n`;
      }
      ctx.out(out);
      return;
    }
    const ring = rings.get(name);
    if (!ring || ring.cfg.implicit) { ctx.err('No such event sink'); return; }
    let wait = false, onlyNew = false, zero = false;
    for (const a of args.slice(3)) {
      // options may be grouped: -wn, -nw, -w0 ...
      if (!/^-[wn0]+$/.test(a)) { ctx.err('unknown option'); return; }
      if (a.includes('w')) wait = true;
      if (a.includes('n')) onlyNew = true;
      if (a.includes('0')) zero = true;
    }
    const sep = zero ? '\0' : '\n';
    let from = onlyNew ? ring.lastSeq : ring.firstSeq;
    const dump = (write: (t: string) => void): void => {
      const list = ring.since(from);
      if (!list.length) return;
      let out = '';
      for (const e of list) out += e.line + sep;
      from = list[list.length - 1]!.seq + 1;
      write(out);
    };
    dump((t) => ctx.out(t));
    if (!wait) return;
    // live: new messages as they come, until any input or the end of the session
    const session = ctx.session;
    const stop = ring.watch(() => dump((t) => session.writeLive(t)));
    try { await session.waitInterrupt(); } finally { stop(); }
  },
});
