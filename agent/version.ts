/** Reported to the server on enrollment and every heartbeat. */
export const AGENT_VERSION = '0.1.0';
export const AGENT_NAME = 'countersign-agent';
