/**
 * MS-OXCMAPIHTTP 2.2.2.2.3 X-ResponseCode values (the transport's own status, carried in the
 * response headers and again after the PROCESSING / DONE lines; HTTP stays 200).
 */
export const ResponseCode = {
  Success: 0,
  UnknownFailure: 1,
  InvalidVerb: 2,
  InvalidPath: 3,
  InvalidHeader: 4,
  InvalidRequestType: 5,
  InvalidContextCookie: 6,
  MissingHeader: 7,
  AnonymousNotAllowed: 8,
  TooLarge: 9,
  ContextNotFound: 10,
  NoPrivilege: 11,
  InvalidRequestBody: 12,
  MissingCookie: 13,
  Reserved: 14,
  InvalidSequence: 15,
  EndpointDisabled: 16,
  InvalidResponse: 17,
  EndpointShuttingDown: 18,
} as const;

export type ResponseCodeValue = (typeof ResponseCode)[keyof typeof ResponseCode];

/** Thrown by a request-body parser: the transport answers X-ResponseCode 12 (invalid request body). */
export class InvalidRequestBody extends Error {
  readonly responseCode = ResponseCode.InvalidRequestBody;
}
