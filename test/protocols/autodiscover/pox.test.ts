import test from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { MOBILESYNC_RESPONSE_SCHEMA, OUTLOOK_RESPONSE_SCHEMA, parsePoxRequest } from '../../../protocols/autodiscover/pox-request.js';
import { errorResponse, mobileResponse, outlookResponse } from '../../../protocols/autodiscover/pox-response.js';
import { answerJson } from '../../../protocols/autodiscover/json-v1.js';
import { autoconfigDomain, autoconfigXml } from '../../../protocols/autodiscover/autoconfig.js';
import { deploymentIdFrom } from '../../../protocols/autodiscover/routes.js';

const REQ_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
const poxRequest = (inner: string, ns = REQ_NS) => `<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="${ns}"><Request>${inner}</Request></Autodiscover>`;
const u8 = (s: string) => Buffer.from(s, 'utf8');

test('AutoDiscover requests parse with either EMailAddress or LegacyDN, any namespace prefix', (t) => {
  t.deepEqual(parsePoxRequest(u8(poxRequest(`<EMailAddress> alice@example.test </EMailAddress><AcceptableResponseSchema>${OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema>`))), {
    emailAddress: 'alice@example.test',
    legacyDn: null,
    acceptableResponseSchema: OUTLOOK_RESPONSE_SCHEMA,
  });
  const prefixed = `\ufeff<a:Autodiscover xmlns:a="${REQ_NS}"><a:Request><a:LegacyDN>/o=Stoa/cn=x</a:LegacyDN><a:AcceptableResponseSchema>${MOBILESYNC_RESPONSE_SCHEMA}</a:AcceptableResponseSchema></a:Request></a:Autodiscover>`;
  t.like(parsePoxRequest(u8(prefixed)), { emailAddress: null, legacyDn: '/o=Stoa/cn=x' });
  t.like(parsePoxRequest(u8(poxRequest('<EMailAddress>a&amp;b@example.test</EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema>'))), { emailAddress: 'a&b@example.test' }, 'the predefined entities decode');
  t.like(parsePoxRequest(u8(poxRequest('<!-- c --><EMailAddress><![CDATA[x@example.test]]></EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema>'))), { emailAddress: 'x@example.test' });
  t.true('error' in parsePoxRequest(u8(poxRequest('<EMailAddress>a&unknown;b</EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema>'))), 'unknown entities are refused');
});

test('bad AutoDiscover requests are error values: not XML, DTDs, wrong shape, deep nesting', (t) => {
  const cases = [
    '',
    'not xml at all',
    '<Autodiscover><Request><EMailAddress>a@b</Request></Autodiscover>',
    `<!DOCTYPE x [<!ENTITY a "${'x'.repeat(10)}">]><Autodiscover><Request><EMailAddress>&a;</EMailAddress></Request></Autodiscover>`,
    '<Other><Request/></Other>',
    poxRequest('<AcceptableResponseSchema>x</AcceptableResponseSchema>'),
    poxRequest('<EMailAddress>a@b</EMailAddress>'),
    poxRequest('<EMailAddress>a@b</EMailAddress><EMailAddress>c@d</EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema>'),
    poxRequest('<EMailAddress><i>a@b</i></EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema>'),
    '<Autodiscover>' + '<a>'.repeat(5000) + '</a>'.repeat(5000) + '</Autodiscover>',
    poxRequest(`<EMailAddress>${'a'.repeat(400)}@b</EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema>`),
  ];
  for (const c of cases) {
    const r = parsePoxRequest(u8(c));
    t.true('error' in r, c.slice(0, 60));
  }
});

const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, processEntities: true }).parse(xml, true) as Record<string, any>;

test('answers are well-formed and carry the spec\'s elements, escaped', (t) => {
  const o = parse(
    outlookResponse({
      displayName: 'A & <B>',
      legacyDn: '/o=Stoa/cn=x',
      smtpAddress: 'a@example.test',
      deploymentId: 'd',
      mapiHttp: { mailStore: { internal: 'https://i/mapi/emsmdb/?MailboxId=g@example.test', external: 'https://e/x' }, addressBook: { internal: 'https://i/n', external: 'https://e/n' } },
    }),
  );
  const resp = o.Autodiscover.Response;
  t.is(o.Autodiscover['@_xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006');
  t.is(resp['@_xmlns'], OUTLOOK_RESPONSE_SCHEMA);
  t.is(resp.User.DisplayName, 'A & <B>');
  t.is(resp.Account.Protocol['@_Type'], 'mapiHttp');
  t.is(resp.Account.Protocol['@_Version'], '1');
  t.is(resp.Account.Protocol.MailStore.InternalUrl, 'https://i/mapi/emsmdb/?MailboxId=g@example.test');
  const m = parse(mobileResponse({ displayName: 'A', emailAddress: 'a@example.test', activeSyncUrl: 'https://e/Microsoft-Server-ActiveSync' })).Autodiscover.Response;
  t.is(m.Action.Settings.Server.Type, 'MobileSync');
  t.is(m.Action.Settings.Server.Url, 'https://e/Microsoft-Server-ActiveSync');
  const e = parse(errorResponse(500, 'nope', 4294967295, 'dbg', new Date('2026-01-02T03:04:05.678Z'))).Autodiscover.Response.Error;
  t.is(e['@_Time'], '03:04:05.678');
  t.is(e['@_Id'], '4294967295');
  t.is(e.ErrorCode, 500);
});

test('the JSON form answers per protocol and domain, with the service\'s error codes', (t) => {
  const served = (d: string) => d === 'example.test';
  t.deepEqual(answerJson('/autodiscover/autodiscover.json/v1.0/alice@example.test', 'Protocol=ActiveSync', 'https://e', served), {
    status: 200,
    body: { Protocol: 'ActiveSync', Url: 'https://e/Microsoft-Server-ActiveSync' },
  });
  t.deepEqual(answerJson('/AutoDiscover/AutoDiscover.json', 'Email=nobody%40example.test&protocol=autodiscoverv1', 'https://e', served).body, {
    Protocol: 'AutodiscoverV1',
    Url: 'https://e/autodiscover/autodiscover.xml',
  });
  t.like(answerJson('/autodiscover/autodiscover.json/v1.0/a@example.test', 'Protocol=Ews', 'https://e', served), { status: 400, body: { ErrorCode: 'InvalidProtocol' } });
  t.like(answerJson('/autodiscover/autodiscover.json/v1.0/a@example.test', '', 'https://e', served), { status: 400, body: { ErrorCode: 'MandatoryParameterMissing' } });
  t.like(answerJson('/autodiscover/autodiscover.json/v1.0/a@elsewhere.test', 'Protocol=ActiveSync', 'https://e', served), { status: 404 });
  t.like(answerJson('/autodiscover/autodiscover.json/v1.0/%E0%A4%A', 'Protocol=ActiveSync', 'https://e', served), { status: 400 });
  t.like(answerJson('/autodiscover/autodiscover.json/v1.0/noat', 'Protocol=ActiveSync', 'https://e', served), { status: 400 });
});

test('autoconfig lists the enabled endpoints; the domain comes from the address or the Host', (t) => {
  const xml = autoconfigXml({
    domain: 'example.test',
    displayName: 'Org',
    host: 'mail.example.test',
    endpoints: [
      { kind: 'incomingServer', type: 'imap', port: 993, socketType: 'SSL' },
      { kind: 'outgoingServer', type: 'smtp', port: 587, socketType: 'STARTTLS' },
    ],
  });
  const p = parse(xml).clientConfig;
  t.is(p['@_version'], '1.1');
  t.is(p.emailProvider['@_id'], 'example.test');
  t.is(p.emailProvider.incomingServer.port, 993);
  t.is(p.emailProvider.outgoingServer.username, '%EMAILADDRESS%');
  t.is(autoconfigDomain('emailaddress=Bob%40Example.TEST', undefined), 'example.test');
  t.is(autoconfigDomain('', 'autoconfig.example.test:80'), 'example.test');
  t.is(autoconfigDomain('', 'mail.example.test'), null);
});

test('the DeploymentId is a stable UUID derived from the directory secret', (t) => {
  const id = deploymentIdFrom(Buffer.alloc(32, 1));
  t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(deploymentIdFrom(Buffer.alloc(32, 1)), id);
  t.not(deploymentIdFrom(Buffer.alloc(32, 2)), id);
});
