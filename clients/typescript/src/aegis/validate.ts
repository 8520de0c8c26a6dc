// The checks Aegis's memory stores (and its control-action validator) make
// before a call reaches storage, with the same error classes and message
// substrings (AEGIS-STORES §2, §3), so callers that test `instanceof` or a
// message see what they see with Aegis's own stores.

import { wellFormed } from './text.js';
import type { AcpMetadata, AcpScope, AegisErrorClasses } from './types.js';

export class Checks {
  constructor(private readonly errors: AegisErrorClasses) {}

  invalid(message: string): Error {
    return new this.errors.AcpValidationError(message);
  }

  identity(message: string): Error {
    return new this.errors.AcpDurableIdentityError(message);
  }

  /** "Non-empty" = non-blank after trimming; the untrimmed value is kept. */
  nonEmpty(value: unknown, name: string): string {
    if (typeof value !== 'string' || value.trim() === '') {
      throw this.invalid(`ACP ${name} must be a non-empty string`);
    }
    return value;
  }

  optionalNonEmpty(value: unknown, name: string): void {
    if (value !== undefined) this.nonEmpty(value, name);
  }

  scope(scope: Partial<AcpScope> | undefined): AcpScope {
    return {
      tenantId: this.nonEmpty(scope?.tenantId, 'tenantId'),
      ownerKeyId: this.nonEmpty(scope?.ownerKeyId, 'ownerKeyId'),
    };
  }

  optionalDate(value: unknown, name: string): Date | undefined {
    if (value === undefined) return undefined;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw this.invalid(`ACP ${name} must be a valid Date`);
    }
    return value;
  }

  /** A list limit: default 100, a safe integer in 1..1000. */
  limit(value: unknown): number {
    if (value === undefined) return 100;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 1000) {
      throw this.invalid('ACP list limit must be an integer between 1 and 1000');
    }
    return value;
  }

  /** Plain JSON: null, string, boolean, finite number, dense array, plain object; no cycles. */
  plainJson(value: unknown, name: string): void {
    const seen = new Set<object>();
    const walk = (v: unknown, path: string): void => {
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw this.invalid(`ACP ${path} must be plain JSON (finite numbers only)`);
        return;
      }
      if (typeof v !== 'object') throw this.invalid(`ACP ${path} must be plain JSON, not ${typeof v}`);
      if (seen.has(v)) throw this.invalid(`ACP ${path} must be plain JSON (no cycles)`);
      seen.add(v);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; ++i) {
          if (!(i in v)) throw this.invalid(`ACP ${path} must be plain JSON (dense arrays only)`);
          walk(v[i], `${path}[${i}]`);
        }
      } else {
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          throw this.invalid(`ACP ${path} must be a plain JSON object or value`);
        }
        for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      }
      seen.delete(v);
    };
    walk(value, name);
  }

  /** Metadata maps (AEGIS-STORES §2.6); returns a normalised copy or undefined. */
  metadata(value: unknown, name: string): AcpMetadata | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.invalid(`ACP ${name} must be a plain JSON object`);
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw this.invalid(`ACP ${name} must be a plain JSON object`);
    }
    const entries = Object.entries(value);
    if (entries.length > 20) throw this.invalid(`ACP ${name} has more than 20 keys`);
    const out: AcpMetadata = {};
    for (const [k, v] of entries) {
      if (k.trim() === '' || k === '__proto__' || k === 'constructor' || k === 'prototype') {
        throw this.invalid(`ACP ${name} key is not allowed: ${JSON.stringify(k)}`);
      }
      if (Buffer.byteLength(k) > 128) throw this.invalid(`ACP ${name} key is longer than 128 bytes`);
      if (SENSITIVE.test(k)) throw this.invalid(`ACP ${name} key is sensitive: ${k}`);
      if (typeof v === 'string') {
        if (Buffer.byteLength(v) > 1024) throw this.invalid(`ACP ${name}.${k} is longer than 1024 bytes`);
      } else if (!(v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
        throw this.invalid(`ACP ${name}.${k} must be null, a boolean, a finite number or a string`);
      }
      // A lone surrogate becomes U+FFFD (text.ts); byte lengths are the same.
      out[wellFormed(k)] = typeof v === 'string' ? wellFormed(v) : (v as number | boolean | null);
    }
    return out;
  }
}

const SENSITIVE = /token|secret|password|api[_-]?key|authorization|cookie|prompt|payload|tool.*arg/i;
