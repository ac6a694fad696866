/**
 * `vswitch up -c FILE [--no-offload] [--state-dir DIR]`: load and check the whole config first (nothing opens on a
 * bad file), open the state directory (refusing to start on a state it cannot trust), start the daemon on it, and
 * on SIGINT/SIGTERM stop it cleanly — which closes the TAP devices it created, so they disappear. Anything thrown
 * that nobody catches ends the process (crash-only.ts): the service manager restarts it on its saved state.
 */
import { loadDaemonConfigFile } from './config.js';
import { installCrashHandlers } from './crash-only.js';
import { systemClock } from '../switch/clock.js';
import { SharedTickClock } from '../switch/shared-tick-clock.js';
import { Daemon } from './daemon.js';
import { hostInterfaceExists } from './host-interfaces.js';
import { loadNativeEdge, type NativeEdge } from './native.js';
import type { DaemonConfig } from '../switch/config/config.js';
import { stateDirOf } from './state-dir.js';
import { createLogger, type Logger } from '../switch/log.js';
import { openPort } from '../switch/port/open-port.js';
import { JournalStore } from '../switch/state/journal-store.js';
import { packageVersion, readPackageFile } from '../api/package-files.js';

export interface UpOptions {
  offload?: boolean;
  /** The state directory (overrides the config's `stateDir` and the default /var/lib/vswitch/NAME). */
  stateDir?: string;
}

export async function runUp(configFile: string, options: UpOptions = {}): Promise<void> {
  const config = loadDaemonConfigFile(configFile);
  if (options.offload === false) config.switch.offload = false; // --no-offload

  const log = createLogger({ level: config.log.level }, { daemon: config.name });
  installCrashHandlers(log);
  const state = await JournalStore.open({ dir: stateDirOf(config, options), log: log.child({ component: 'state' }) });
  const native = nativeOf(config, log);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, {
      // One wake-up a second for all the once-a-second timers (heartbeat, housekeeping, plugins), not one each.
      clock: new SharedTickClock(systemClock),
      log,
      ...native,
      openPort: (portConfig) => openPort(portConfig, native.native?.addon),
      interfaceExists: hostInterfaceExists(native.native?.addon),
      specText: readPackageFile('openapi.yaml'),
      version: packageVersion(),
      state,
    });
  } catch (err) {
    await state.close();
    throw err;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    daemon
      .stop()
      .then(() => state.close())
      .then(
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
