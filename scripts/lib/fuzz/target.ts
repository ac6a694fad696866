/**
 * What the fuzzer needs from one target (a decoder or parser that takes outside bytes): how to make an input,
 * how to run it, and which outcomes are allowed.
 *
 * The oracle. `execute` runs one input and returns a short outcome label ("drop:runt", "ok", ...). An input may
 * also end in an error the module means to throw (its typed error: ConfigError, TopologySyntaxError, ...):
 * `classify` turns that into a label. Anything else is a crash: another error, a result of the wrong shape
 * (execute throws OracleViolation when the result breaks the module's own contract), a fatal exit of the
 * process. And an input that takes too long is a hang (engine.ts).
 */
import type { Rng } from './rng.js';

export interface WorstCase<I> {
  /** "long word", "deep nesting", ... */
  readonly name: string;
  /** An input of about `bytes` bytes. */
  make(bytes: number): I;
}

export interface FuzzTarget<I = unknown> {
  readonly name: string;
  /** One line: the entry point and its oracle. */
  readonly summary: string;
  /**
   * Stateful targets (a switch core learning MACs, a noise device with a session) start over every this many
   * inputs, so input #i can be replayed from the last multiple of it. Undefined: stateless.
   */
  readonly resetEvery?: number;
  /** Builds fresh state; called before the first input and at each resetEvery boundary. */
  reset?(): void | Promise<void>;
  /** Input #index (rng is seeded from the run seed and the index alone). */
  generate(rng: Rng, index: number): I;
  /** Runs one input; returns its outcome label; throws OracleViolation on a wrong result. */
  execute(input: I): string | Promise<string>;
  /** The label of an error the module means to throw, or undefined when the error is a crash. */
  classify(error: unknown): string | undefined;
  /** Bytes of the input (the per-input time limit is per size). */
  size(input: I): number;
  encode(input: I): Uint8Array;
  decode(bytes: Uint8Array): I;
  /** Inputs built to make super-linear code show (long runs, deep nesting, 1 MiB). */
  readonly worstCases: readonly WorstCase<I>[];
}

/** A result that breaks the module's contract (a decision of an unknown kind, a frame shorter than 16...). */
export class OracleViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OracleViolation';
  }
}

export function violation(message: string): never {
  throw new OracleViolation(message);
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new OracleViolation(message);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** encode/decode/size for targets whose input is a byte string. */
export const bytesCodec = {
  size: (input: Uint8Array): number => input.length,
  encode: (input: Uint8Array): Uint8Array => input,
  decode: (bytes: Uint8Array): Uint8Array => bytes,
};

/** encode/decode/size for targets whose input is text (UTF-8 on disk; lone surrogates do not survive a save). */
export const textCodec = {
  size: (input: string): number => input.length,
  encode: (input: string): Uint8Array => encoder.encode(input),
  decode: (bytes: Uint8Array): string => decoder.decode(bytes),
};

/** encode/decode for targets whose input is a JSON-able value. */
export function jsonCodec<I>(sizeOf: (input: I) => number) {
  return {
    size: sizeOf,
    encode: (input: I): Uint8Array => encoder.encode(JSON.stringify(input)),
    decode: (bytes: Uint8Array): I => JSON.parse(decoder.decode(bytes)) as I,
  };
}

/** The label of an error: its class and, when it has one, its code. */
export function errorLabel(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.name}:${code}` : error.name;
  }
  return typeof error;
}

/** A target whatever its input type (the runner only passes a target's own inputs back to it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTarget = FuzzTarget<any>;
