import { ReplayFilter } from '../../../../switch/link/noise/replay.js';
import { runReplaySuite } from '../../../support/replay-suite.js';

runReplaySuite('ReplayFilter', () => new ReplayFilter());
