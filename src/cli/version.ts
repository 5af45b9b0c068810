// Version and build features. `feature()` in .if conditions and `-cc` is true only for what works.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../../../package.json') as { version: string };

/** The HAProxy version whose behaviour is implemented. */
export const HAPROXY_VERSION = '3.2.0';
export const TS_VERSION: string = pkg.version;
export const RELEASE_DATE = '2026/11/23';

/** Build features in HAProxy's naming: enabled ones are usable, disabled ones are not built yet. */
export const FEATURES: Record<string, boolean> = {
  '51DEGREES': false,
  ACCEPT4: false,
  BACKTRACE: false,
  CPU_AFFINITY: false,
  CRYPT_H: false,
  DEVICEATLAS: false,
  GETADDRINFO: true,
  KQUEUE: false,
  LIBCRYPT: false,
  LINUX_SPLICE: false,
  LINUX_TPROXY: false,
  LUA: false,
  NETFILTER: false,
  NS: false,
  OPENSSL: false,
  OT: false,
  PCRE: false,
  PCRE2: false,
  PROMEX: true,
  QUIC: false,
  SLZ: false,
  SYSTEMD: false,
  TFO: false,
  THREAD: false,
  TPROXY: false,
  WURFL: false,
  ZLIB: false,
};

export function hasFeature(name: string): boolean {
  return FEATURES[name] === true;
}

/** Runtime options `enabled()` may test (HAProxy's GTUNE-based list). */
export const ENABLED_OPTIONS = new Set<string>(['GETADDRINFO', 'REUSEPORT']);

export function versionText(): string {
  return `HAProxy version ${HAPROXY_VERSION}-ts${TS_VERSION} ${RELEASE_DATE} - haproxy-ts (HAProxy ${HAPROXY_VERSION} in TypeScript on Node.js ${process.version})\n`;
}

export function versionVerbose(): string {
  const feats = Object.entries(FEATURES).map(([k, v]) => `${v ? '+' : '-'}${k}`).join(' ');
  return [
    versionText().trimEnd(),
    `Running on: Node.js ${process.version} ${process.platform} ${process.arch}`,
    'Build options :',
    `  TARGET  = node${process.versions.node.split('.')[0]}`,
    '  OPTIONS = ',
    '',
    `Feature list : ${feats}`,
    '',
    'Default settings :',
    '  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200',
    '',
    'Built without multi-threading support (one event loop per process).',
    'Built without OpenSSL support (TLS not supported yet).',
    'Built without compression support.',
    'Built with the Prometheus exporter as a service',
    '',
    'Available polling systems :',
    '   libuv : pref=300,  test result OK',
    'Total: 1 (1 usable), will use libuv.',
    '',
    'Available multiplexer protocols :',
    '(protocols marked as <default> cannot be specified using \'proto\' keyword)',
    '         <default> : mode=TCP  side=FE|BE  mux=PASS  flags=',
    '',
    'Available services : prometheus-exporter',
    '',
    'Available filters : none',
    '',
  ].join('\n');
}
