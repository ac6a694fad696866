import { describe, expect, it } from 'vitest';
import { loadNativeEdge, realTransports } from '../../daemon/native.js';
import { createLogger } from '../../switch/log.js';

describe('the native edge (daemon/native.ts)', () => {
  it('a failed load is logged with its reason and leaves the daemon on Node’s own I/O', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    // A file that is not there: the edge is absent, and the log says which file and why.
    expect(loadNativeEdge({}, log, '/nonexistent/vswitch_native.node')).toBeUndefined();
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r['level'] === 'warn');
    expect(warning?.['msg']).toMatch(/native addon not loaded/);
    expect(JSON.stringify(warning)).toContain('/nonexistent/vswitch_native.node');
  });

  it('without the edge, real UDP links run on node:dgram (nothing loads the addon)', async () => {
    const udp = realTransports(undefined)('udp', { host: '127.0.0.1', port: 0 });
    expect('nativeHandle' in udp).toBe(false);
  });

  it('VSWITCH_TCP_NOTSENT_LOWAT sets the native streams\' TCP_NOTSENT_LOWAT; a value that is no byte count is logged and ignored', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    expect(loadNativeEdge({ VSWITCH_TCP_NOTSENT_LOWAT: '16384' }, log)?.tcpNotSentLowatBytes).toBe(16384);
    expect(loadNativeEdge({}, log)?.tcpNotSentLowatBytes).toBe(0);
    for (const bad of ['16k', '-1', '1e6', '99999999999']) {
      lines.length = 0;
      expect(loadNativeEdge({ VSWITCH_TCP_NOTSENT_LOWAT: bad }, log)?.tcpNotSentLowatBytes).toBe(0);
      expect(lines.some((l) => l.includes('VSWITCH_TCP_NOTSENT_LOWAT ignored'))).toBe(true);
    }
  });
});
