/**
 * AutoDiscover answers (pure: data in, XML text out).
 *  - Outlook (MS-OXDSCLI §2.2.4, responseschema/2006a): User, and an Account whose Protocol
 *    Type="mapiHttp" Version="1" names the MAPI over HTTP endpoints (§2.2.4.1.1.2.6: MailStore and
 *    AddressBook, each with InternalUrl / ExternalUrl). No EXCH / EXPR / EXHTTP protocol sections
 *    are sent until RPC over HTTP is served.
 *  - Phones (MS-ASCMD §2.2.1.1, mobilesync/responseschema/2006): Action / Settings / Server of
 *    Type MobileSync with the ActiveSync URL.
 *  - Errors (MS-OXDSCLI §2.2.4.1.1.3): Response / Error with ErrorCode (500 address not found,
 *    600 invalid request, 601 schema not available, 603 internal error), Message and DebugData.
 */
import { escapeXml as x } from './xml.js';
import { MOBILESYNC_RESPONSE_SCHEMA, OUTLOOK_RESPONSE_SCHEMA } from './pox-request.js';

export const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

export interface EndpointUrls {
  internal: string;
  external: string;
}

export interface OutlookSettings {
  displayName: string;
  legacyDn: string;
  smtpAddress: string;
  deploymentId: string;
  /** Present when the client announced X-MapiHttpCapability. */
  mapiHttp: { mailStore: EndpointUrls; addressBook: EndpointUrls } | null;
}

export function outlookResponse(s: OutlookSettings): string {
  const endpoint = (tag: string, u: EndpointUrls) => `<${tag}><InternalUrl>${x(u.internal)}</InternalUrl><ExternalUrl>${x(u.external)}</ExternalUrl></${tag}>`;
  const mapi = s.mapiHttp === null ? '' : `<Protocol Type="mapiHttp" Version="1">${endpoint('MailStore', s.mapiHttp.mailStore)}${endpoint('AddressBook', s.mapiHttp.addressBook)}</Protocol>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="${RESPONSE_NS}"><Response xmlns="${OUTLOOK_RESPONSE_SCHEMA}">` +
    `<User><DisplayName>${x(s.displayName)}</DisplayName><LegacyDN>${x(s.legacyDn)}</LegacyDN><AutoDiscoverSMTPAddress>${x(s.smtpAddress)}</AutoDiscoverSMTPAddress><DeploymentId>${x(s.deploymentId)}</DeploymentId></User>` +
    `<Account><AccountType>email</AccountType><Action>settings</Action><MicrosoftOnline>False</MicrosoftOnline>${mapi}</Account>` +
    `</Response></Autodiscover>`
  );
}

export interface MobileSettings {
  displayName: string;
  emailAddress: string;
  activeSyncUrl: string;
}

export function mobileResponse(s: MobileSettings): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="${RESPONSE_NS}"><Response xmlns="${MOBILESYNC_RESPONSE_SCHEMA}">` +
    `<Culture>en:us</Culture><User><DisplayName>${x(s.displayName)}</DisplayName><EMailAddress>${x(s.emailAddress)}</EMailAddress></User>` +
    `<Action><Settings><Server><Type>MobileSync</Type><Url>${x(s.activeSyncUrl)}</Url><Name>${x(s.activeSyncUrl)}</Name></Server></Settings></Action>` +
    `</Response></Autodiscover>`
  );
}

/** MS-OXDSCLI §2.2.4.1.1.3.1 error codes. */
export const PoxErrorCode = {
  /** The e-mail address cannot be found (also: no permission to read its settings, so existence is not revealed). */
  NotFound: 500,
  /** The XML request was improperly formatted. */
  InvalidRequest: 600,
  /** No configuration of the requested type (AcceptableResponseSchema). */
  SchemaNotAvailable: 601,
  /** The server failed internally. */
  InternalError: 603,
} as const;

export function errorResponse(code: number, message: string, serverId: number, debugData = '', now = new Date()): string {
  // Time: the time of day the request was handled, hh:mm:ss.fff (MS-ASCMD §2.2.3.63 gives the ABNF).
  const time = now.toISOString().slice(11, 23);
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="${RESPONSE_NS}"><Response>` +
    `<Error Time="${time}" Id="${serverId >>> 0}"><ErrorCode>${code}</ErrorCode><Message>${x(message)}</Message><DebugData>${x(debugData)}</DebugData></Error>` +
    `</Response></Autodiscover>`
  );
}
