// The live dashboard in a real browser: Debian's chromium driven by playwright-core (both
// optional: the test is skipped when either is missing; PLAYWRIGHT_CORE may name the package's
// directory when it is not in node_modules, CHROMIUM_PATH the browser). The page draws charts
// from generated traffic, an admin drains a server with its button (checked on the stats
// socket), a viewer gets no buttons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePorts, startProxyWithConfig, tempDir, waitFor, cliCommand, type Proc } from '../helpers/harness.js';
import { startHttpBackend } from '../helpers/http.js';

// the subset of playwright-core's API used here (the package is an optional dev dependency)
interface PwPage {
  goto(url: string, o?: { timeout?: number }): Promise<unknown>;
  waitForFunction(fn: string, arg?: unknown, o?: { timeout?: number; polling?: number }): Promise<unknown>;
  click(sel: string, o?: { timeout?: number }): Promise<void>;
  textContent(sel: string, o?: { timeout?: number }): Promise<string | null>;
  waitForSelector(sel: string, o?: { timeout?: number }): Promise<unknown>;
  locator(sel: string): { count(): Promise<number> };
  on(ev: 'pageerror', f: (e: Error) => void): void;
}
interface PwContext { newPage(): Promise<PwPage>; close(): Promise<void> }
interface PwBrowser { newContext(o: { httpCredentials: { username: string; password: string } }): Promise<PwContext>; close(): Promise<void> }
interface Pw { chromium: { launch(o: { executablePath: string; args: string[]; timeout: number }): Promise<PwBrowser> } }

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => p && fs.existsSync(p));

async function loadPlaywright(): Promise<Pw | undefined> {
  try { return await import('playwright-core' as string) as Pw; } catch { /* not installed */ }
  const dir = process.env.PLAYWRIGHT_CORE;
  if (dir) {
    try { return await import(pathToFileURL(path.join(dir, 'index.mjs')).href) as Pw; } catch { /* unusable */ }
  }
  return undefined;
}

const pw = await loadPlaywright();
const skip = !pw ? 'playwright-core not installed' : !CHROMIUM ? 'chromium not installed' : false;

test('dashboard in chromium: charts after traffic, admin drain button, no buttons for a viewer', { timeout: 60_000, skip }, async () => {
  const ok = await startHttpBackend('ok');
  const bad = await startHttpBackend('bad', (_r, res) => { res.writeHead(503, { 'content-length': '0' }); res.end(); });
  const [sp, fp] = await freePorts(2);
  const dir = tempDir();
  const sock = `${dir}/s.sock`;
  let p: Proc | undefined;
  let browser: PwBrowser | undefined;
  let traffic: NodeJS.Timeout | undefined;
  const pageErrors: string[] = [];
  try {
    p = await startProxyWithConfig(`global
  stats socket ${sock} level admin
userlist ops
  group admins
  user admin insecure-password pw groups admins
  user view insecure-password pw
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
listen stats
  bind 127.0.0.1:${sp}
  stats dashboard-uri /dash
  stats auth admin:pw
  stats auth view:pw
  stats admin if { http_auth_group(ops) admins }
frontend f
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  balance roundrobin
  server s1 127.0.0.1:${ok.port}
  server s2 127.0.0.1:${bad.port}
`, [sp!, fp!]);
    await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
    browser = await pw!.chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--headless=new', '--disable-gpu'], timeout: 20_000 });

    const admin = await browser.newContext({ httpCredentials: { username: 'admin', password: 'pw' } });
    const page = await admin.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${sp}/dash`, { timeout: 10_000 });
    await page.waitForSelector('[data-key="s/b/s1"] button[data-action="drain"]', { timeout: 10_000 });

    // steady traffic while the page polls: 10 requests every 200 ms
    let inflight = false;
    traffic = setInterval(() => {
      if (inflight) return;
      inflight = true;
      void Promise.all(Array.from({ length: 10 }, () => fetch(`http://127.0.0.1:${fp}/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.arrayBuffer()).catch(() => undefined)))
        .finally(() => { inflight = false; });
    }, 200);

    // the charts drew points with a non-zero maximum for the frontend's requests, s2's errors and s1's response time
    const drawn = (key: string, series: string): string =>
      `(() => { const s = document.querySelector('[data-key="${key}"] svg[data-series="${series}"]');`
      + ` return !!s && Number(s.getAttribute('data-max')) > 0 && Number(s.getAttribute('data-points')) >= 2`
      + ` && /^M[0-9.]+ [0-9.]+L/.test(s.querySelector('path').getAttribute('d')); })()`;
    await page.waitForFunction(drawn('f/f', 'req'), undefined, { timeout: 15_000, polling: 200 });
    await page.waitForFunction(drawn('s/b/s2', 'err'), undefined, { timeout: 10_000, polling: 200 });
    await page.waitForFunction(drawn('b/b', 'req'), undefined, { timeout: 10_000, polling: 200 });
    assert.match((await page.textContent('[data-key="s/b/s1"] [data-role="status"]')) ?? '', /^no check$/);

    // drain s1 from its button
    await page.click('[data-key="s/b/s1"] button[data-action="drain"]', { timeout: 5000 });
    await page.waitForFunction(`/^DRAIN/.test(document.querySelector('[data-key="s/b/s1"] [data-role="status"]').textContent)`, undefined, { timeout: 10_000, polling: 100 });
    // `show servers state`: srv_admin_state (7th column) 0x08 = drain (management.txt)
    const out = await cliCommand(sock, 'show servers state b');
    const line = out.split('\n').find((l) => / s1 /.test(l) && !l.startsWith('#'));
    assert.ok(line, out);
    assert.equal(line.split(' ')[6], '8');
    const stat = await cliCommand(sock, 'show stat');
    assert.match(stat, /^b,s1,.*,DRAIN,/m);
    await admin.close();

    // a viewer: the same rows, no buttons
    const viewer = await browser.newContext({ httpCredentials: { username: 'view', password: 'pw' } });
    const vpage = await viewer.newPage();
    vpage.on('pageerror', (e) => pageErrors.push(e.message));
    await vpage.goto(`http://127.0.0.1:${sp}/dash`, { timeout: 10_000 });
    await vpage.waitForSelector('[data-key="s/b/s1"] [data-role="status"]', { timeout: 10_000 });
    await vpage.waitForFunction(`/^DRAIN/.test(document.querySelector('[data-key="s/b/s1"] [data-role="status"]').textContent)`, undefined, { timeout: 5000 });
    assert.equal(await vpage.locator('button[data-action]').count(), 0);
    await viewer.close();
    assert.deepEqual(pageErrors, []);
  } finally {
    if (traffic) clearInterval(traffic);
    await browser?.close().catch(() => undefined);
    await p?.stop();
    await ok.close();
    await bad.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
