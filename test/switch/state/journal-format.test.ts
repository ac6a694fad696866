/**
 * The journal format's promise: a crash at any byte of the last write gives the state before it or after it, never
 * a third one; anything else wrong is a clear error naming the file, the line and the problem.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeJournal, encodeBase, encodeChanges } from '../../../switch/state/journal-format.js';
import type { StateChange, StateRecord } from '../../../switch/state/state-record.js';
import { StateTable } from '../../../switch/state/state-table.js';
import { seededRandom } from '../../../scripts/lib/seeded-random.js';

const OPTIONS = { file: '/var/lib/vswitch/h1/state.journal', resetHint: 'run `vswitch state reset`' };
const decode = (text: string | Buffer) => decodeJournal(typeof text === 'string' ? Buffer.from(text) : text, OPTIONS);

const base: StateRecord[] = [{ kind: 'config-time', key: 'bound', value: { upperBoundMs: 500 } }];
const batches: StateChange[][] = [
  [{ kind: 'link', key: 'x1', value: { publicKey: 'k1', owner: 'ops', transport: 'auto' } }],
  [{ kind: 'rule', key: '7', value: { src: 'any', dst: '02:00:00:00:00:07', target: 'x1', owner: 'ops' } }, { kind: 'rule-ids', key: 'next', value: 8 }],
  [{ kind: 'link', key: 'x1', value: null }, { kind: 'vttif', key: 'parameters', value: { threshold: { value: 0.2, base: 0.1 } } }],
];

function journal(n = batches.length): string {
  return encodeBase(4, base) + batches.slice(0, n).map((b, i) => encodeChanges(5 + i, b)).join('');
}

function tableAfter(n: number): StateTable {
  const table = new StateTable(base);
  for (const b of batches.slice(0, n)) table.apply(b);
  return table;
}

describe('state journal format', () => {
  it('decodes what it encodes: the base, then each batch in order', () => {
    const decoded = decode(journal());
    expect(decoded.table.records()).toEqual(tableAfter(3).records());
    expect(decoded).toMatchObject({ seq: 7, entries: 3, goodBytes: Buffer.byteLength(journal()) });
    expect(decoded.torn).toBeUndefined();
  });

  it('a crash at every byte of the last entry gives the old state or the new one, never an error', () => {
    const whole = Buffer.from(journal());
    const lastStart = Buffer.byteLength(journal(2));
    const [before, after] = [tableAfter(2).records(), tableAfter(3).records()];
    for (let cut = lastStart; cut <= whole.length; cut++) {
      const decoded = decode(whole.subarray(0, cut));
      const isWhole = cut === whole.length;
      expect(decoded.table.records(), `cut at ${cut}`).toEqual(isWhole ? after : before);
      expect(decoded.goodBytes).toBe(isWhole ? whole.length : lastStart);
      if (!isWhole && cut > lastStart) expect(decoded.torn).toMatchObject({ offset: lastStart, bytes: cut - lastStart });
    }
  });

  it('a last line whose bytes did not all reach the disk (zeros inside, newline present) is the torn write', () => {
    const text = journal(2);
    const last = encodeChanges(7, batches[2]!);
    const damaged = Buffer.from(text + last);
    damaged.fill(0, Buffer.byteLength(text) + 12, Buffer.byteLength(text) + 30);
    const decoded = decode(damaged);
    expect(decoded.table.records()).toEqual(tableAfter(2).records());
    expect(decoded.torn?.problem).toMatch(/checksum mismatch/);
  });

  it('a damaged line before the last is corruption: the error names the file, the line, its offset and the problem', () => {
    const text = Buffer.from(journal());
    const second = Buffer.byteLength(encodeBase(4, base)) + Buffer.byteLength(encodeChanges(5, batches[0]!));
    text[second + 20] = text[second + 20]! ^ 0x01; // line 3, inside its JSON
    expect(() => decode(text)).toThrow(expect.objectContaining({ code: 'state-corrupt', where: `line 3 (byte ${second})` }));
    try {
      decode(text);
    } catch (err) {
      expect((err as Error).message).toContain('/var/lib/vswitch/h1/state.journal: line 3');
      expect((err as Error).message).toContain('checksum mismatch');
      expect((err as Error).message).toContain('vswitch state reset');
    }
  });

  it('random damage anywhere is either the torn last write or a clear error, never a silent other state', () => {
    const whole = Buffer.from(journal());
    const lastStart = Buffer.byteLength(journal(2));
    const random = seededRandom(18);
    for (let i = 0; i < 500; i++) {
      const damaged = Buffer.from(whole);
      const at = Math.floor(random() * damaged.length);
      damaged[at] = (damaged[at]! + 1 + Math.floor(random() * 255)) & 0xff;
      let outcome: string;
      try {
        const decoded = decode(damaged);
        outcome = JSON.stringify(decoded.table.records());
        expect(at, `damage at ${at} accepted`).toBeGreaterThanOrEqual(lastStart); // only the last line may be dropped
        expect(outcome).toBe(JSON.stringify(tableAfter(2).records()));
      } catch (err) {
        expect((err as { code?: string }).code, `damage at ${at}: ${(err as Error).message}`).toBe('state-corrupt');
      }
    }
  });

  it('refuses a bad base even alone, an empty file, another format, a gap in the sequence and a record of the wrong shape', () => {
    const corrupt = (text: string, problem: RegExp, where = /line 1/) => {
      try {
        decode(text);
        expect.unreachable(`accepted: ${text}`);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('state-corrupt');
        expect((err as { where: string }).where).toMatch(where);
        expect((err as { problem: string }).problem).toMatch(problem);
      }
    };
    corrupt('', /empty/);
    corrupt(encodeBase(0, []).slice(0, 20), /no end/);
    corrupt(encodeBase(0, []).replace('vswitch-state', 'vswitch-other'), /checksum mismatch/);
    const other = JSON.stringify({ format: 'something-else', version: 1, seq: 0, records: [] });
    corrupt(`${crc(other)} ${other}\n`, /not a vswitch state file/);
    const newer = JSON.stringify({ format: 'vswitch-state', version: 2, seq: 0, records: [] });
    corrupt(`${crc(newer)} ${newer}\n`, /version 2/);
    corrupt(encodeBase(0, []) + encodeChanges(2, batches[0]!) + encodeChanges(3, batches[1]!), /sequence number 2 where 1 was due/, /line 2/);
    const badKind = JSON.stringify({ seq: 1, changes: [['Link!', 'x', {}]] });
    corrupt(encodeBase(0, []) + `${crc(badKind)} ${badKind}\n` + encodeChanges(2, batches[0]!), /kind "Link!"/, /line 2/);
  });
});

function crc(json: string): string {
  return crc32(json).toString(16).padStart(8, '0');
}
