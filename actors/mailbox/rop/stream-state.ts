/**
 * State of an open property stream (RopOpenStream, MS-OXCPRPT 3.2.5.13): the property's bytes in
 * memory, the seek pointer, the open mode, and where a commit writes them back.
 */
export interface StreamState {
  /** The property the stream reads or writes. */
  tag: number;
  /** The handle of the object the stream was opened on. */
  owner: number;
  /** OpenModeFlags of RopOpenStream (ReadOnly 0, ReadWrite 1, Create 2, BestAccess 3). */
  mode: number;
  data: Uint8Array;
  /** Bytes of `data` in use (the stream's size). */
  size: number;
  position: number;
  /** Written since the last commit. */
  dirty: boolean;
}
