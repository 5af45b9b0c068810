// spread-checks / max-spread-checks: intervals get +/- N % of random jitter; the global keywords
// take their documented ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spreadInterval, spreadSettings } from '../../src/checks/health.js';
import { parseConfigText } from '../helpers/config.js';

test('spreadInterval stays within +/- pct % and varies', () => {
  spreadSettings.pct = 0;
  assert.equal(spreadInterval(1000), 1000);
  spreadSettings.pct = 10;
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const v = spreadInterval(1000);
    assert.ok(v >= 900 && v <= 1100, `${v}`);
    seen.add(v);
  }
  assert.ok(seen.size > 10, 'the jitter is random');
  spreadSettings.pct = 0;
});

test('spread-checks takes 0..50, max-spread-checks a delay', () => {
  const base = 'defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n';
  const ok = parseConfigText(`global\n  spread-checks 5\n  max-spread-checks 2s\n${base}`);
  assert.equal(ok.fatal, false, JSON.stringify(ok.diags));
  assert.equal(spreadSettings.pct, 5);
  assert.equal(spreadSettings.maxSpread, 2000);
  const bad = parseConfigText(`global\n  spread-checks 60\n${base}`);
  assert.equal(bad.fatal, true);
  assert.match(bad.diags[0]!.msg, /between 0 and 50/);
  spreadSettings.pct = 0;
  spreadSettings.maxSpread = undefined;
});
