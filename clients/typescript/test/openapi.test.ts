// The client cannot drift from docs/openapi.yaml: its types and the table
// of operations are generated from the spec, and this test regenerates them
// and compares with the committed file.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { AcpstoreClient, operations } from '../src/index.js';

interface Generator {
  generate(yamlText: string): string;
  specPath: string;
  outPath: string;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

test('src/openapi.gen.ts is what docs/openapi.yaml generates (npm run gen)', async () => {
  const gen = (await import(pathToFileURL(join(packageRoot(), 'scripts/gen-openapi.mjs')).href)) as Generator;
  const fresh = gen.generate(readFileSync(gen.specPath, 'utf8'));
  const committed = readFileSync(gen.outPath, 'utf8');
  assert.equal(committed, fresh, 'docs/openapi.yaml changed: run `npm run gen` in clients/typescript');
});

test('every operationId has a client method of the same name', () => {
  const proto = AcpstoreClient.prototype as unknown as Record<string, unknown>;
  const missing = Object.keys(operations).filter((op) => typeof proto[op] !== 'function');
  assert.deepEqual(missing, []);
});
