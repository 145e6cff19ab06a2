/**
 * AutoDiscover v2 (the JSON form Outlook for mobile, new Outlook and some EAS clients ask first):
 *
 *   GET /autodiscover/autodiscover.json/v1.0/<address>?Protocol=ActiveSync
 *   GET /autodiscover/autodiscover.json?Email=<address>&Protocol=AutodiscoverV1
 *   → 200 {"Protocol":"ActiveSync","Url":"https://mail.example.com/Microsoft-Server-ActiveSync"}
 *
 * Unauthenticated, as the service it imitates: it names where a protocol lives for a domain we
 * serve and reveals nothing about users (an unknown user of a served domain gets the same answer).
 * Pure apart from the domain check passed in.
 */

/** Protocols answered, by the lower-case name clients send. */
export const JSON_PROTOCOLS: Record<string, { name: string; path: string }> = {
  activesync: { name: 'ActiveSync', path: '/Microsoft-Server-ActiveSync' },
  autodiscoverv1: { name: 'AutodiscoverV1', path: '/autodiscover/autodiscover.xml' },
};

export type JsonAnswer = { status: number; body: Record<string, string> };

export function answerJson(path: string, query: string, externalBase: string, domainServed: (domain: string) => boolean): JsonAnswer {
  const params = new URLSearchParams(query);
  const param = (name: string): string | null => {
    for (const [k, v] of params) if (k.toLowerCase() === name) return v;
    return null;
  };
  const lower = path.toLowerCase();
  const base = '/autodiscover/autodiscover.json';
  let address: string | null;
  if (lower === base || lower === `${base}/`) address = param('email');
  else if (lower.startsWith(`${base}/v1.0/`)) {
    try {
      address = decodeURIComponent(path.slice(base.length + '/v1.0/'.length));
    } catch {
      return error(400, 'InvalidUser', 'The address is not valid percent-encoding.');
    }
  } else return error(404, 'NotFound', 'Use /autodiscover/autodiscover.json/v1.0/<address>?Protocol=<protocol>.');
  const protocol = param('protocol');
  if (protocol === null || protocol === '') return error(400, 'MandatoryParameterMissing', "A valid value must be provided for the query parameter 'Protocol'.");
  const known = JSON_PROTOCOLS[protocol.toLowerCase()];
  if (known === undefined) {
    const supported = Object.values(JSON_PROTOCOLS).map((p) => p.name).join(',');
    return error(400, 'InvalidProtocol', `The given protocol value '${protocol.slice(0, 64)}' is invalid. Supported values are '${supported}'.`);
  }
  const at = address === null ? -1 : address.lastIndexOf('@');
  if (address === null || at <= 0 || at === address.length - 1 || address.length > 320) return error(400, 'InvalidUser', 'A valid e-mail address must be given.');
  if (!domainServed(address.slice(at + 1).toLowerCase())) return error(404, 'UserNotFound', 'The domain of this address is not served here.');
  return { status: 200, body: { Protocol: known.name, Url: `${externalBase}${known.path}` } };
}

function error(status: number, code: string, message: string): JsonAnswer {
  return { status, body: { ErrorCode: code, ErrorMessage: message } };
}
