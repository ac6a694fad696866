import type { components } from './generated/openapi.js';

/** Body types of the API, named after their schemas in openapi.yaml. */
export type Status = components['schemas']['Status'];
export type PortStatus = components['schemas']['Port'];
export type MacEntry = components['schemas']['MacEntry'];
export type Problem = components['schemas']['Problem'];
