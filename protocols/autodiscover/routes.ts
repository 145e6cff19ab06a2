/**
 * AutoDiscover on the HTTPS door:
 *  - POST /autodiscover/autodiscover.xml (any letter case): Outlook's and phones' XML request
 *    (MS-OXDSCLI, MS-ASCMD). The user authenticates before any lookup; settings of another
 *    mailbox are answered only with a full-access grant (directory), otherwise with error 500,
 *    exactly as for an unknown address, so the answer does not tell which addresses exist.
 *    GET on plain HTTP is redirected to HTTPS by the door (Outlook's "HTTP redirect method").
 *  - GET /autodiscover/autodiscover.json...: the JSON form (json-v1.ts).
 *  - GET /.well-known/autoconfig/mail/config-v1.1.xml and /mail/config-v1.1.xml: Thunderbird
 *    autoconfig (autoconfig.ts), on HTTP too.
 */
import { createHash, createHmac } from 'node:crypto';
import type { DirectoryStore, UserRecord } from '../../storage/directory-store.js';
import { header, send, sendText } from '../http/exchange.js';
import type { Route, RouteContext } from '../http/router.js';
import { parsePoxRequest, MOBILESYNC_RESPONSE_SCHEMA, OUTLOOK_RESPONSE_SCHEMA } from './pox-request.js';
import { errorResponse, mobileResponse, outlookResponse, PoxErrorCode } from './pox-response.js';
import { answerJson } from './json-v1.js';
import { autoconfigDomain, autoconfigXml, type MailEndpoint } from './autoconfig.js';
import type { MailboxGuids } from './mailbox-guids.js';
import { ActorError } from '../../runtime/errors.js';

/** Largest AutoDiscover request body: a request is ~400 bytes; 64 KiB leaves room for any client's padding. */
export const AUTODISCOVER_MAX_BODY = 64 * 1024;
/** How long an AutoDiscover request may sit without bytes moving (a one-shot POST; no long poll). */
export const AUTODISCOVER_IDLE_MS = 30_000;

const XML_HEADERS = { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'no-store' } as const;

export interface AutodiscoverDeps {
  dir: DirectoryStore;
  /** Base URLs of the HTTPS services (no trailing slash). */
  internalUrl: string;
  externalUrl: string;
  deploymentId: string;
  /** Identifies this server in error answers (MS-OXDSCLI Error/@Id). */
  serverId: number;
  guids: MailboxGuids;
  autoconfig: { organization: string; mailHost: string; endpoints: readonly MailEndpoint[] };
}

/** A stable DeploymentId for this installation, derived from the directory's secret (never the secret itself). */
export function deploymentIdFrom(secret: Uint8Array): string {
  const h = createHmac('sha256', secret).update('stoa autodiscover deployment id').digest();
  h[6] = (h[6]! & 0x0f) | 0x40; // RFC 9562 version 4 layout
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** An unsigned 32-bit number naming this server (MS-OXDSCLI Error/@Id). */
export function serverIdFrom(hostname: string): number {
  return createHash('sha256').update(hostname.toLowerCase()).digest().readUInt32BE(0);
}

export function autodiscoverRoutes(deps: AutodiscoverDeps): Route[] {
  return [
    {
      name: 'autodiscover',
      paths: ['/autodiscover/autodiscover.xml'],
      methods: ['POST'],
      auth: 'user',
      limits: { maxBodyBytes: AUTODISCOVER_MAX_BODY, idleMs: AUTODISCOVER_IDLE_MS },
      handle: (ctx) => handlePox(ctx, deps),
    },
    {
      name: 'autodiscover-json',
      prefix: '/autodiscover/autodiscover.json',
      methods: ['GET'],
      auth: 'none',
      handle({ req, res }) {
        const a = answerJson(req.path, req.query, deps.externalUrl, (d) => deps.dir.domain(d) !== undefined);
        send(res, a.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, JSON.stringify(a.body), req.method === 'HEAD');
      },
    },
    {
      name: 'autoconfig',
      paths: ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml'],
      methods: ['GET'],
      listeners: ['http', 'https'],
      auth: 'none',
      handle({ req, res }) {
        const domain = autoconfigDomain(req.query, header(req, 'host'));
        if (domain === null) return sendText(res, 400, 'Name the address: ?emailaddress=user@domain');
        if (deps.dir.domain(domain) === undefined) return sendText(res, 404, `${domain} is not served here.`);
        const { organization, mailHost, endpoints } = deps.autoconfig;
        const body = autoconfigXml({ domain, displayName: organization, host: mailHost, endpoints });
        send(res, 200, { 'content-type': 'application/xml; charset=utf-8', 'cache-control': 'no-store' }, body, req.method === 'HEAD');
      },
    },
  ];
}

async function handlePox(ctx: RouteContext, deps: AutodiscoverDeps): Promise<void> {
  const { req, res } = ctx;
  const user = ctx.user!;
  const body = await ctx.readBody();
  if (body === null) return;
  const fail = (status: number, code: number, message: string, debug = '') => send(res, status, XML_HEADERS, errorResponse(code, message, deps.serverId, debug));
  const parsed = parsePoxRequest(body);
  if ('error' in parsed) return fail(400, PoxErrorCode.InvalidRequest, 'Invalid Request', parsed.error);
  const schema = parsed.acceptableResponseSchema;
  if (schema !== OUTLOOK_RESPONSE_SCHEMA && schema !== MOBILESYNC_RESPONSE_SCHEMA) {
    return fail(200, PoxErrorCode.SchemaNotAvailable, 'The requested response schema is not available.', schema.slice(0, 200));
  }
  const target: UserRecord | undefined = parsed.emailAddress !== null ? deps.dir.userByAddress(parsed.emailAddress) : deps.dir.userByLegacyDn(parsed.legacyDn!);
  // Unknown, disabled, or someone else's mailbox without a grant: one answer for all three.
  if (target === undefined || !target.enabled || (target.id !== user.id && !deps.dir.hasFullAccess(user.id, target.id))) {
    return fail(200, PoxErrorCode.NotFound, 'The e-mail address cannot be found.');
  }
  if (schema === MOBILESYNC_RESPONSE_SCHEMA) {
    return send(res, 200, XML_HEADERS, mobileResponse({ displayName: target.displayName, emailAddress: target.address, activeSyncUrl: `${deps.externalUrl}/Microsoft-Server-ActiveSync` }));
  }
  // X-MapiHttpCapability: the highest MAPI over HTTP version the client speaks (MS-OXDSCLI §2.2.1.2).
  const capability = Number(header(req, 'x-mapihttpcapability') ?? '0');
  let mapiHttp: Parameters<typeof outlookResponse>[0]['mapiHttp'] = null;
  if (Number.isInteger(capability) && capability >= 1) {
    let guid = deps.guids.cached(target);
    if (guid === undefined) {
      try {
        guid = await deps.guids.get(target);
      } catch (err) {
        ctx.log.error({ err, mailbox: target.address }, 'autodiscover: the mailbox GUID could not be read');
        const retry = err instanceof ActorError && err.retryable;
        return fail(retry ? 503 : 500, PoxErrorCode.InternalError, 'The mailbox is not available right now.');
      }
    }
    const domain = target.address.slice(target.address.lastIndexOf('@') + 1);
    const mailboxId = `?MailboxId=${guid}@${domain}`;
    const urls = (path: string) => ({ internal: `${deps.internalUrl}${path}${mailboxId}`, external: `${deps.externalUrl}${path}${mailboxId}` });
    mapiHttp = { mailStore: urls('/mapi/emsmdb/'), addressBook: urls('/mapi/nspi/') };
  }
  send(res, 200, XML_HEADERS, outlookResponse({ displayName: target.displayName, legacyDn: target.legacyDn, smtpAddress: target.address, deploymentId: deps.deploymentId, mapiHttp }));
}
