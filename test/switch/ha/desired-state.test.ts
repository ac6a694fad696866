/** The desired state's records in etcd (the memory twin): written in one transaction, read back checked, etcd wins. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { changesToMatch, EtcdDesiredState } from '../../../switch/ha/desired-state.js';
import { MemoryEtcdCluster } from '../../../switch/ha/memory-etcd.js';
import { StateTable } from '../../../switch/state/state-table.js';

const kinds = [
  {
    kind: 'policy',
    validate: (_key: string, value: unknown) => {
      if (typeof (value as { n?: unknown }).n !== 'number') throw new Error('n: must be a number');
    },
  },
  { kind: 'plugin', validate: () => undefined },
];

describe('EtcdDesiredState', () => {
  it('writes only its kinds, in one transaction; reads them back; refuses what does not check, naming the key', async () => {
    const cluster = new MemoryEtcdCluster(new ManualClock());
    const desired = new EtcdDesiredState(cluster.client(), kinds);
    expect((await desired.load()).seeded).toBe(false);
    await desired.seed([{ kind: 'policy', key: 'a', value: { n: 1 } }, { kind: 'link', key: 'x', value: {} }], 'p1');
    await desired.write([{ kind: 'policy', key: 'b c', value: { n: 2 } }, { kind: 'rule', key: '1', value: {} }, { kind: 'plugin', key: 'vttif', value: { enabled: { value: false, base: true } } }]);
    await desired.write([{ kind: 'policy', key: 'a', value: null }]);
    cluster.put('/vswitch/state/policy/bad', '{"n":"x"}');
    cluster.put('/vswitch/state/policy/torn', '{"n":');
    cluster.put('/vswitch/state/policy/%zz', '{"n":1}');
    cluster.put('/vswitch/state/link/x1', '{}');
    const load = await desired.load();
    expect(load.seeded).toBe(true);
    expect(load.records).toEqual([
      { kind: 'plugin', key: 'vttif', value: { enabled: { value: false, base: true } } },
      { kind: 'policy', key: 'b c', value: { n: 2 } },
    ]);
    expect(Object.fromEntries(load.refused.map((r) => [r.key, r.reason]))).toEqual({
      '/vswitch/state/link/x1': expect.stringMatching(/not a kind of desired state/),
      '/vswitch/state/policy/%zz': expect.stringMatching(/percent-encoded/),
      '/vswitch/state/policy/bad': 'n: must be a number',
      '/vswitch/state/policy/torn': expect.stringMatching(/not JSON/),
    });
  });

  it('etcd wins key by key; a local record whose etcd value was refused stays; other kinds are not touched', () => {
    const local = new StateTable([
      { kind: 'policy', key: 'same', value: { n: 1 } },
      { kind: 'policy', key: 'old', value: { n: 1 } },
      { kind: 'policy', key: 'differs', value: { n: 1 } },
      { kind: 'policy', key: 'bad', value: { n: 1 } },
      { kind: 'link', key: 'x1', value: {} },
    ]);
    const changes = changesToMatch(
      local,
      {
        seeded: true,
        records: [
          { kind: 'policy', key: 'same', value: { n: 1 } },
          { kind: 'policy', key: 'differs', value: { n: 2 } },
          { kind: 'policy', key: 'new', value: { n: 3 } },
        ],
        refused: [{ key: '/vswitch/state/policy/bad', reason: 'n: must be a number' }],
      },
      ['policy', 'plugin'],
    );
    expect(changes).toEqual([
      { kind: 'policy', key: 'old', value: null },
      { kind: 'policy', key: 'differs', value: { n: 2 } },
      { kind: 'policy', key: 'new', value: { n: 3 } },
    ]);
  });
});
