// Parsing a configuration given as text, for unit tests of the parser and of keyword modules.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigFiles } from '../../src/config/parser.js';
import { condContext } from '../../src/cli/main.js';

/** Parses `text` as one configuration file (written to a temporary directory, removed after). */
export function parseConfigText(text: string): ReturnType<typeof parseConfigFiles> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-cfg-'));
  const f = path.join(dir, 'h.cfg');
  fs.writeFileSync(f, text);
  try {
    return parseConfigFiles([f], condContext());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
