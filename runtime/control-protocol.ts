/**
 * The local control channel between the admin CLI and a running server: JSON lines over a Unix
 * socket in the data folder (mode 0600, so only the server's own user can use it).
 */
export const CONTROL_COMMANDS = ['ping', 'status', 'metrics', 'workers', 'placement', 'reload', 'shutdown', 'admin', 'transfer'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlRequest {
  id: number;
  cmd: ControlCommand;
  args?: Record<string, unknown>;
}

export type ControlResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: string; detail: string } };

/** Longest request line accepted; a longer one is answered with an error and the connection closed. */
export const CONTROL_MAX_LINE = 1 << 20;
