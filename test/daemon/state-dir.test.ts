import { describe, expect, it } from 'vitest';
import { stateDirOf } from '../../daemon/state-dir.js';

describe('the state directory of a daemon', () => {
  it('is --state-dir (resolved), else the config\'s stateDir, else /var/lib/vswitch/NAME', () => {
    expect(stateDirOf({ name: 'h1' })).toBe('/var/lib/vswitch/h1');
    expect(stateDirOf({ name: 'h1', stateDir: '/srv/h1' })).toBe('/srv/h1');
    expect(stateDirOf({ name: 'h1', stateDir: '/srv/h1' }, { stateDir: '/tmp/x' })).toBe('/tmp/x');
    expect(stateDirOf({ name: 'h1' }, { stateDir: 'rel' })).toBe(`${process.cwd()}/rel`);
  });
});
