import { describe, expect, it } from 'vitest';
import { replayInput, runTarget } from '../../scripts/lib/fuzz/engine.js';
import { knownIssueOf } from '../../scripts/lib/fuzz/known.js';
import { measureScaling } from '../../scripts/lib/fuzz/scaling.js';
import { ethernetTarget } from '../../scripts/lib/fuzz/targets/ethernet.js';
import { makeTarget, TARGET_NAMES } from '../../scripts/lib/fuzz/targets/index.js';
import type { FuzzTarget } from '../../scripts/lib/fuzz/target.js';

/** A few thousand inputs per target: the smoke, in-process (scripts/fuzz --smoke runs them in child processes). */
const SMOKE_INPUTS: Record<string, number> = { config: 1500, 'api-validator': 1500, wireguard: 2000 };

describe('scripts/fuzz targets: a smoke of each', () => {
  it.each(TARGET_NAMES)('%s: no crash or hang that is not a known issue', async (name) => {
    const result = await runTarget(makeTarget(name), { seed: 7, inputs: SMOKE_INPUTS[name] ?? 3000 });
    const fresh = result.findings.filter((f) => !knownIssueOf(f.target, f.signature));
    expect(fresh.map((f) => `${f.kind} #${f.index}: ${f.detail}`)).toEqual([]);
    expect(result.inputs).toBe(SMOKE_INPUTS[name] ?? 3000);
    // The generators reach past the first check: more than one kind of outcome.
    expect(Object.keys(result.outcomes).length).toBeGreaterThan(2);
  }, 60_000);

  it('is deterministic: the same seed makes the same inputs and outcomes', async () => {
    const a = await runTarget(makeTarget('control'), { seed: 3, inputs: 500 });
    const b = await runTarget(makeTarget('control'), { seed: 3, inputs: 500 });
    expect(b.outcomes).toEqual(a.outcomes);
    expect(b.bytes).toBe(a.bytes);
  });
});

/** The ethernet target with a decoder that throws TypeError on one byte pattern (byte 14 = 0xa5). */
function brokenEthernet(): FuzzTarget<Uint8Array> {
  const base = ethernetTarget();
  return {
    ...base,
    name: 'broken-ethernet',
    execute(bytes) {
      if (bytes.length > 14 && bytes[14] === 0xa5) {
        const frame = undefined as unknown as { payload: Uint8Array };
        return String(frame.payload.length); // TypeError: cannot read properties of undefined
      }
      return base.execute(bytes);
    },
  };
}

describe('scripts/fuzz catches what it should', () => {
  it('reports a decoder that throws TypeError on one byte pattern as a crash, with an input that replays it', async () => {
    const target = brokenEthernet();
    const result = await runTarget(target, { seed: 1, inputs: 3000 });
    expect(result.crashes).toBeGreaterThan(0);
    const finding = result.findings[0]!;
    expect(finding.kind).toBe('crash');
    expect(finding.signature).toMatch(/^TypeError: /);
    expect(finding.input[14]).toBe(0xa5);
    const replayed = await replayInput(brokenEthernet(), finding.input);
    expect(replayed.error).toBeInstanceOf(TypeError);
    expect(result.outcomes['CRASH']).toBe(result.crashes);
  });

  it('reports an error the module does not mean to throw as a crash, and its own typed error as an outcome', async () => {
    class OwnError extends Error {}
    const target: FuzzTarget<Uint8Array> = {
      ...ethernetTarget(),
      name: 'typed',
      execute: (bytes) => {
        if (bytes.length % 2 === 0) throw new OwnError('refused');
        if (bytes.length % 7 === 0) throw new RangeError('not ours');
        return 'ok';
      },
      classify: (error) => (error instanceof OwnError ? 'OwnError' : undefined),
    };
    const result = await runTarget(target, { seed: 2, inputs: 2000 });
    expect(result.outcomes['OwnError']).toBeGreaterThan(0);
    expect(result.findings.every((f) => f.signature.startsWith('RangeError: not ours'))).toBe(true);
    expect(result.crashes).toBeGreaterThan(0);
  });

  it('reports an input over its time budget as a hang (after re-running it)', async () => {
    const target: FuzzTarget<Uint8Array> = {
      ...ethernetTarget(),
      name: 'slow',
      generate: (_rng, index) => (index === 5 ? Uint8Array.of(0xff, 0xff) : Uint8Array.of(1, 2)),
      execute: (bytes) => {
        if (bytes[0] === 0xff && bytes[1] === 0xff) {
          // Burn 30 ms of CPU (not of wall time: the machine may be shared), over the 20 ms budget below.
          const cpuMs = () => process.cpuUsage().user / 1000;
          const until = cpuMs() + 30;
          while (cpuMs() < until);
        }
        return 'ok';
      },
      classify: () => undefined,
    };
    const result = await runTarget(target, { seed: 1, inputs: 10, hangMs: 20 });
    expect(result.hangs).toBe(1);
    expect(result.findings[0]).toMatchObject({ kind: 'hang', index: 5 });
    expect(Array.from(result.findings[0]!.input.subarray(0, 2))).toEqual([0xff, 0xff]);
    expect(result.slowest.ms).toBeGreaterThan(20);
  }, 30_000);

  it('flags a family whose time grows faster than its size', async () => {
    const quadratic: FuzzTarget<string> = {
      name: 'quadratic',
      summary: '',
      generate: () => '',
      execute: (text) => {
        let x = 0;
        for (let i = 0; i < text.length; i++) for (let j = 0; j < text.length; j += 16) x += j;
        return String(x > 0);
      },
      classify: () => undefined,
      size: (t) => t.length,
      encode: (t) => new TextEncoder().encode(t),
      decode: (b) => new TextDecoder().decode(b),
      worstCases: [{ name: 'n²', make: (n) => 'a'.repeat(n) }],
    };
    const [result] = await measureScaling(quadratic, { maxBytes: 65_536, capMs: 10_000 });
    expect(result!.exponent, JSON.stringify(result!.points)).toBeGreaterThan(1.5);
    expect(result!.superlinear).toBe(true);
  }, 30_000);
});
