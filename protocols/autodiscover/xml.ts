/** Escaping for the XML the AutoDiscover answers are built from (text and attribute values). */
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(s: string): string {
  // Characters XML 1.0 cannot carry at all (C0 controls but TAB, CR, LF) are dropped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, '');
}
