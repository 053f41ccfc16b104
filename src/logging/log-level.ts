// The log levels an operator may choose, in pino's names and order. They live with the
// logging port rather than in the node's configuration because the node config, the
// QuorumKVCluster resource and the scale controller all accept the same list.
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];
