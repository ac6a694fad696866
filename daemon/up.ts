/**
 * `vswitch up -c FILE [--no-offload]`: load and check the whole config first (nothing opens
 * on a bad file), start the daemon, and on SIGINT/SIGTERM stop it cleanly —
 * which closes the TAP devices it created, so they disappear.
 */
import { loadDaemonConfigFile } from './config.js';
import { systemClock } from '../switch/clock.js';
import { Daemon } from './daemon.js';
import { hostInterfaceExists } from './host-interfaces.js';
import { loadNativeEdge, type NativeEdge } from './native.js';
import type { DaemonConfig } from '../switch/config/config.js';
import { createLogger, type Logger } from '../switch/log.js';
import { openPort } from '../switch/port/open-port.js';
import { packageVersion, readPackageFile } from '../api/package-files.js';

export async function runUp(configFile: string, options: { offload?: boolean } = {}): Promise<void> {
  const config = loadDaemonConfigFile(configFile);
  if (options.offload === false) config.switch.offload = false; // --no-offload

  const log = createLogger({ level: config.log.level }, { daemon: config.name });
  const native = nativeOf(config, log);
  const daemon = await Daemon.start(config, {
    clock: systemClock,
    log,
    ...native,
    openPort: (portConfig) => openPort(portConfig, native.native?.addon),
    interfaceExists: hostInterfaceExists(native.native?.addon),
    specText: readPackageFile('openapi.yaml'),
    version: packageVersion(),
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('stop failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** The addon, loaded once here and injected (daemon/native.ts). */
function nativeOf(config: DaemonConfig, log: Logger): { native?: NativeEdge } {
  const native = loadNativeEdge(process.env, log.child({ component: 'native' }));
  if (native && !config.switch.offload) log.info('flow offload off by config');
  return native ? { native } : {};
}
