import { describe, expect, it } from 'vitest';
import { formatRoute } from '../../../api/cli/topology.js';

describe('vswitch topology route, for people', () => {
  it('names the host a fast-path hop goes to, not only the link', () => {
    const text = formatRoute({
      src: '02:00:c6:13:01:01',
      dst: '02:00:c6:13:02:01',
      outcome: 'delivered',
      hops: [
        { host: 'h1', inPort: 'tap-h1v1', step: 'rule', rule: { id: 7, src: '02:00:c6:13:01:01', dst: '02:00:c6:13:02:01', priority: 100, owner: 'proxy:fastpath' }, outPort: 'fp-h2', next: 'h2' },
        { host: 'h2', inPort: 'fp-h1', step: 'learned', outPort: 'tap-h2v1' },
      ],
    } as Parameters<typeof formatRoute>[0]);
    expect(text.split('\n')).toEqual([
      '02:00:c6:13:01:01 → 02:00:c6:13:02:01: delivered',
      '1. h1 (in tap-h1v1): rule #7 (src 02:00:c6:13:01:01 dst 02:00:c6:13:02:01 priority 100, owner proxy:fastpath) → fp-h2 (to h2)',
      '2. h2 (in fp-h1): learned → tap-h2v1',
    ]);
  });
});
