import { describe, expect, it } from 'vitest';
import { ApiListenError } from '../../../api/http/server.js';

const osError = (code: string): Error => Object.assign(new Error(code), { code });

describe('ApiListenError', () => {
  it('says a low TCP port needs CAP_NET_BIND_SERVICE (the service has only CAP_NET_ADMIN and CAP_NET_RAW)', () => {
    const err = new ApiListenError('127.0.0.1:80', osError('EACCES'));
    expect(err.code).toBe('api-listen');
    expect(err.message).toContain('CAP_NET_BIND_SERVICE');
  });

  it('says a unix socket refused by its directory is about where it is made', () => {
    const err = new ApiListenError('unix:/etc/vswitch/api.sock', osError('EACCES'));
    expect(err.message).toContain('RuntimeDirectory');
    expect(err.message).not.toContain('CAP_NET_BIND_SERVICE');
  });

  it('keeps other codes as they are', () => {
    expect(new ApiListenError('127.0.0.1:7000', osError('EADDRINUSE')).message).toBe('API cannot listen on 127.0.0.1:7000: EADDRINUSE');
  });
});
