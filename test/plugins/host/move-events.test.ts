import { describe, expect, it } from 'vitest';
import { moveEventBody } from '../../../plugins/host/move-events.js';

describe('VM moves as plugin events', () => {
  const where = { mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2' } as const;

  it('one type, vm-moved, in two phases: detected, then converged with the time and who did not answer', () => {
    expect(moveEventBody({ type: 'vm-moved', ...where })).toEqual({ type: 'vm-moved', move: { phase: 'detected', ...where } });
    expect(moveEventBody({ type: 'vm-move-converged', ...where, convergeMs: 9, hosts: 3, complete: true })).toEqual({
      type: 'vm-moved',
      move: { phase: 'converged', ...where, convergeMs: 9, complete: true, unacked: [] },
    });
    expect(moveEventBody({ type: 'vm-move-converged', ...where, convergeMs: 5000, hosts: 3, complete: false, unacked: 'h1,h3' }).move).toMatchObject({
      complete: false,
      unacked: ['h1', 'h3'],
    });
  });
});
