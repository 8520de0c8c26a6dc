// Test harness: runs the real `acpstore serve` binary on a scratch data
// directory and a free port on 127.0.0.1, with keys made by
// `acpstore keys create`. The binary is $ACPSTORE_BIN, default the release
// build of this repository. A missing binary fails the tests (never skips).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// dist/test -> the repository root.
const repo = resolve(here, '../../../..');
export const binary = process.env['ACPSTORE_BIN'] ?? join(repo, 'build/release/src/cli/acpstore');

export interface Keys {
  admin: string;
  writer: string;
  writer2: string;
  reader: string;
  service: string;
  /** A service key limited to tenant "t1". */
  serviceT1: string;
  /** A service key for a test that revokes it (id "svc-spare"). */
  serviceSpare: string;
}

function createKey(dataDir: string, args: string[]): string {
  const r = spawnSync(binary, ['keys', 'create', '--data-dir', dataDir, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`acpstore keys create ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export class AcpstoreServer {
  readonly dataDir: string;
  readonly keys: Keys;
  port = 0;
  #child: ChildProcess | undefined;
  #stderr = '';

  private constructor(dataDir: string, keys: Keys) {
    this.dataDir = dataDir;
    this.keys = keys;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error('server not running');
    return pid;
  }

  /** A fresh data directory with keys, and a running server. */
  static async start(extraArgs: string[] = []): Promise<AcpstoreServer> {
    if (!existsSync(binary)) {
      throw new Error(`acpstore binary not found at ${binary}: build it or set ACPSTORE_BIN`);
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'acpstore-ts-'));
    const keys: Keys = {
      admin: createKey(dataDir, ['--tenant', 't1', '--role', 'admin']),
      writer: createKey(dataDir, ['--tenant', 't1', '--role', 'writer', '--id', 'w1']),
      writer2: createKey(dataDir, ['--tenant', 't1', '--role', 'writer', '--id', 'w2']),
      reader: createKey(dataDir, ['--tenant', 't1', '--role', 'reader']),
      service: createKey(dataDir, ['--role', 'service', '--id', 'svc']),
      serviceT1: createKey(dataDir, ['--role', 'service', '--tenants', 't1', '--id', 'svc-t1']),
      serviceSpare: createKey(dataDir, ['--role', 'service', '--id', 'svc-spare']),
    };
    const s = new AcpstoreServer(dataDir, keys);
    await s.launch(0, extraArgs);
    return s;
  }

  /** `acpstore keys revoke`: the running server refuses the key within 2 s. */
  revokeKey(id: string): void {
    const r = spawnSync(binary, ['keys', 'revoke', '--data-dir', this.dataDir, id], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`acpstore keys revoke ${id} failed: ${r.stderr}`);
  }

  /** Starts the binary; port 0 picks a free one (read back from its log). */
  async launch(port: number, extraArgs: string[] = []): Promise<void> {
    this.#stderr = '';
    const child = spawn(
      binary,
      ['serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${port}`, ...extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child = child;
    const deadline = Date.now() + 20_000;
    this.port = await new Promise<number>((resolvePort, reject) => {
      const timer = setInterval(() => {
        if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`acpstore did not start within 20 s:\n${this.#stderr}`));
        }
      }, 100);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        this.#stderr += chunk;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(this.#stderr);
        if (m?.[1] !== undefined) {
          clearInterval(timer);
          resolvePort(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`acpstore exited with ${String(code)} before listening:\n${this.#stderr}`));
      });
    });
  }

  /** SIGKILL: no shutdown, no snapshot; only what was acknowledged survives. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.launch(this.port);
  }

  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async #signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    await exited;
    this.#child = undefined;
  }
}

/** Polls `pred` until it holds or `ms` pass (no fixed sleeps in tests). */
export async function waitFor(pred: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
