export { TrafficCounter, type TrafficCounterStats } from './traffic-counter.js';
export { isValidMatrixUpdate, type GlobalMatrix, type MatrixEntry, type MatrixUpdate, type PairTraffic } from './matrix.js';
export { decodeMatrixUpdate, encodeMatrixUpdate, type MatrixUpdateJson } from './matrix-codec.js';
export { Aggregator } from './aggregator.js';
export { infer, normalize, topologyToJson, EMPTY_TOPOLOGY, type Edge, type Topology, type TopologyJson } from './infer.js';
export { classifyShape, SHAPE_PRECEDENCE, type Shape } from './shape.js';
export { TopologyDamper, damperTiming, type DamperChange, type DamperReason, type DamperTiming } from './damper.js';
export {
  deriveSettleMs,
  deriveSmoothingMs,
  DEFAULT_THRESHOLD,
  DEFAULT_UPDATE_RATE_HZ,
  MAX_UPDATE_RATE_HZ,
  MIN_UPDATE_RATE_HZ,
  type VttifParameters,
} from './parameters.js';
export { VttifParameterError } from './errors.js';
export {
  createVttif,
  Vttif,
  type IngestResult,
  type TopologyChange,
  type VttifOptions,
  type VttifParameterChange,
  type VttifSettings,
  type VttifStats,
} from './vttif.js';
export { VttifReporter, type VttifReporterOptions } from './host-reporter.js';
export {
  VttifService,
  type AppTopologyView,
  type MatrixView,
  type TopologyEventView,
  type TopologyListener,
  type VttifServiceOptions,
} from './proxy-service.js';
