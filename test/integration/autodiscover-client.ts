/** A POX AutoDiscover request as Outlook sends it (MS-OXDSCLI), for the integration tests. */
import { request as httpsRequest } from 'node:https';

/** The AutoDiscover answer's XML for `email`, authenticated as `login` ("user:password"). */
export function autodiscover(port: number, login: string, email: string): Promise<string> {
  const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/autodiscover/autodiscover.xml',
        method: 'POST',
        rejectUnauthorized: false,
        headers: { authorization: `Basic ${Buffer.from(login).toString('base64')}`, 'content-type': 'text/xml', 'x-mapihttpcapability': '1', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let s = '';
        res.setEncoding('utf8').on('data', (c: string) => (s += c));
        res.on('end', () => resolve(s));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The user's legacy DN from their own AutoDiscover answer (what Outlook connects with). */
export async function legacyDnOf(port: number, user: string, password: string): Promise<string> {
  return /<LegacyDN>([^<]+)<\/LegacyDN>/.exec(await autodiscover(port, `${user}:${password}`, user))?.[1] ?? '';
}
