/**
 * Thunderbird-style autoconfig (the "clientConfig" 1.1 file format that Thunderbird, Evolution,
 * KMail and others read):
 *
 *   GET http://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>
 *   GET https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=<address>
 *
 * Lists the IMAP, POP3 and SMTP submission endpoints that are enabled (implicit TLS first, then
 * STARTTLS), password authentication over TLS, the full address as user name. Unauthenticated:
 * per domain, nothing about users. Pure.
 */
import { escapeXml as x } from './xml.js';

export interface MailEndpoint {
  kind: 'incomingServer' | 'outgoingServer';
  type: 'imap' | 'pop3' | 'smtp';
  port: number;
  socketType: 'SSL' | 'STARTTLS';
}

export interface AutoconfigInput {
  domain: string;
  displayName: string;
  host: string;
  endpoints: readonly MailEndpoint[];
}

export function autoconfigXml(a: AutoconfigInput): string {
  const servers = a.endpoints
    .map(
      (e) =>
        `    <${e.kind} type="${e.type}">\n      <hostname>${x(a.host)}</hostname>\n      <port>${e.port}</port>\n      <socketType>${e.socketType}</socketType>\n` +
        `      <authentication>password-cleartext</authentication>\n      <username>%EMAILADDRESS%</username>\n    </${e.kind}>\n`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n  <emailProvider id="${x(a.domain)}">\n` +
    `    <domain>${x(a.domain)}</domain>\n    <displayName>${x(a.displayName)}</displayName>\n    <displayShortName>${x(a.displayName)}</displayShortName>\n` +
    `${servers}  </emailProvider>\n</clientConfig>\n`
  );
}

/**
 * The domain asked about: from ?emailaddress=, else from a Host of the form autoconfig.<domain>.
 * null when neither names one.
 */
export function autoconfigDomain(query: string, host: string | undefined): string | null {
  for (const [k, v] of new URLSearchParams(query)) {
    if (k.toLowerCase() !== 'emailaddress') continue;
    const at = v.lastIndexOf('@');
    return at > 0 && at < v.length - 1 ? v.slice(at + 1).toLowerCase() : null;
  }
  const h = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  return h.startsWith('autoconfig.') && h.length > 'autoconfig.'.length ? h.slice('autoconfig.'.length) : null;
}
