// Preloaded (`node --import`) into the built CLI by test/api/cli/built-cli.test.ts: any socket, native addon or TAP
// device the process tries to open throws "forbidden: …", so a check that passes under it opened none of them.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';

const forbid = (what) => () => {
  throw new Error(`forbidden: ${what}`);
};
process.dlopen = forbid('loading a native addon');
net.Server.prototype.listen = forbid('listening on a socket');
net.Socket.prototype.connect = forbid('connecting a socket');
dgram.createSocket = forbid('a UDP socket');
for (const name of ['open', 'openSync']) {
  const real = fs[name];
  fs[name] = function (path, ...rest) {
    if (String(path).startsWith('/dev/net/')) throw new Error('forbidden: opening a TAP device');
    return real.call(this, path, ...rest);
  };
}
