/**
 * The example libvirt hook (examples/libvirt/qemu): on `stopped` and `release` it hands every target device of the
 * guest's ethernet interfaces, read from the XML libvirt gives on stdin, to the ifdown hook — here a script that
 * records its argument, standing in for bin/vswitch-ifdown (whose own behaviour the CLI and e2e tests cover).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const HOOK = join(import.meta.dirname, '../../examples/libvirt/qemu');

const GUEST = `<domain type='kvm'>
  <name>vm1</name>
  <devices>
    <interface type='ethernet'>
      <mac address='52:54:00:12:34:56'/>
      <target dev='qvm1' managed='no'/>
      <model type='virtio'/>
    </interface>
    <interface type="ethernet">
      <target dev="qvm2"/>
    </interface>
    <interface type='bridge'>
      <source bridge='br0'/>
      <target dev='vnet9'/>
    </interface>
    <disk type='file'><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>
`;

function runHook(operation: string, options: { failFor?: string } = {}): { code: number; detached: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-libvirt-hook-'));
  const record = join(dir, 'calls');
  const ifdown = join(dir, 'ifdown');
  writeFileSync(ifdown, `#!/bin/sh\necho "$1" >> '${record}'\n[ "$1" != '${options.failFor ?? ''}' ]\n`);
  chmodSync(ifdown, 0o755);
  const r = spawnSync(HOOK, ['vm1', operation, 'end', '-'], { input: GUEST, encoding: 'utf8', env: { ...process.env, VSWITCH_IFDOWN: ifdown } });
  return { code: r.status ?? -1, detached: existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : [] };
}

describe('examples/libvirt/qemu', () => {
  it.each(['stopped', 'release'])('on %s detaches the target devices of ethernet interfaces only', (operation) => {
    expect(runHook(operation)).toEqual({ code: 0, detached: ['qvm1', 'qvm2'] });
  });

  it('does nothing on the other operations', () => {
    for (const operation of ['prepare', 'start', 'started', 'migrate', 'reconnect']) expect(runHook(operation)).toEqual({ code: 0, detached: [] });
  });

  it('goes on after a failed detach, and says so in its exit status', () => {
    expect(runHook('stopped', { failFor: 'qvm1' })).toEqual({ code: 1, detached: ['qvm1', 'qvm2'] });
  });
});
