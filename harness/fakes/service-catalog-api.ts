// The Service Catalog API model as the fake checks it: the error it answers with, and the input
// checks whose failures are violations (a malformed request, a client bug), not user errors.

import { ApiError, type Json, isObject } from './aws-json-server';

export { ApiError, type Json, isObject };

export const ID_RE = /^[a-zA-Z0-9_-]*$/;
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
export const TOKEN_RE = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;
const LANGUAGES = ['en', 'jp', 'zh'];
export const PROPERTY_KEYS = ['OWNER', 'LAUNCH_ROLE'];

/** Structural check helpers: all throw violation-level InvalidParametersException. */
export function malformed(message: string): ApiError {
  return new ApiError('InvalidParametersException', message, true);
}

export function checkMembers(op: string, input: Json, allowed: string[]): void {
  for (const k of Object.keys(input)) {
    if (!allowed.includes(k)) throw malformed(`${op}: unknown member '${k}'`);
  }
}

export function checkString(
  op: string,
  field: string,
  v: unknown,
  opts: { required: boolean; min: number; max: number; pattern?: RegExp },
): string | undefined {
  if (v === undefined || v === null) {
    if (opts.required) throw malformed(`${op}: ${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw malformed(`${op}: ${field} must be a string, got ${typeof v}`);
  if (v.length < opts.min || v.length > opts.max) {
    throw malformed(`${op}: ${field} length ${v.length} not in [${opts.min}, ${opts.max}]`);
  }
  if (opts.pattern && !opts.pattern.test(v)) {
    throw malformed(`${op}: ${field} ${JSON.stringify(v)} does not match ${opts.pattern}`);
  }
  return v;
}

export function checkAcceptLanguage(op: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !LANGUAGES.includes(v)) {
    throw malformed(`${op}: AcceptLanguage ${JSON.stringify(v)} not one of ${LANGUAGES.join('|')}`);
  }
}

export function checkPageSize(op: string, v: unknown, max: number): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw malformed(`${op}: PageSize ${JSON.stringify(v)} not an integer in [0, ${max}]`);
  }
}
