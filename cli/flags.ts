/** Parsers for flag values: each names the flag and what was expected when the value is bad. */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../src/base/duration.js';
import { isSafeId, SAFE_ID_PATTERN, SERVICE_NAME_PATTERN } from '../src/base/ids.js';

export function portFlag(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InvalidArgumentError(`expected a TCP port number between 1 and 65535, got "${value}"`);
  }
  return n;
}

/** A port to listen on: 0 asks for any free one. */
export function listenPortFlag(value: string): number {
  return value.trim() === '0' ? 0 : portFlag(value);
}

export function positiveIntFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function positiveNumberFlag(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/** Keeps the duration text (the workflows take text) after checking it parses. */
export function durationFlag(value: string): string {
  if (parseDuration(value) === undefined) {
    throw new InvalidArgumentError(`expected a duration such as 30s, 5m or 1h, got "${value}"`);
  }
  return value;
}

export function serviceFlag(value: string): string {
  if (!SERVICE_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      `expected a service name of letters, digits, '.', '_' or '-', got "${value}"`,
    );
  }
  return value;
}

export function nameFlag(value: string): string {
  if (!SAFE_ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(`expected letters, digits, ".", "_" or "-" (at most 128), got "${value}"`);
  }
  return value;
}

/** A snapshot or replay id argument: it names a folder, so nothing that could leave the store. */
export function idArgument(value: string): string {
  if (!isSafeId(value)) {
    throw new InvalidArgumentError(
      `expected an id of letters, digits, ".", "_" or "-" (at most 128, no ".."), got "${value}"`,
    );
  }
  return value;
}
