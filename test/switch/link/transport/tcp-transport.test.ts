import { createTcpTransport } from '../../../../switch/link/transport/tcp-transport.js';
import { runTcpTransportSuite } from '../../../support/tcp-transport-suite.js';
import { runTransportSuite } from '../../../support/transport-suite.js';

runTransportSuite({
  name: 'tcp on 127.0.0.1',
  kind: 'tcp',
  host: '127.0.0.1',
  create: (listen) => createTcpTransport({ listen }),
});

runTcpTransportSuite('node:net', (options) => createTcpTransport(options));
