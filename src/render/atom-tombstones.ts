/**
 * RFC 6721 tombstones for Atom: `<at:deleted-entry ref="…" when="…"/>` children of atom:feed, with
 * the namespace declared on the root. feedsmith 3.0.1 has no support for the tombstones namespace,
 * so this post-pass adds them to its output. It touches only the root start tag (the first element
 * after the XML declaration) and the position before the final `</feed>`: neither can lie inside a
 * CDATA section or any publisher text, whatever the entries contain.
 */

export const TOMBSTONES_NS = 'http://purl.org/atompub/tombstones/1.0';

/** Adds one at:deleted-entry per tombstone (document order = the order given), or returns xml as it is. */
export function addAtomTombstones(xml: string, deleted: readonly { ref: string; when: Date }[] | undefined): string {
  if (!deleted || deleted.length === 0) return xml;
  const root = /<feed\b[^>]*>/.exec(xml);
  const close = xml.lastIndexOf('</feed>');
  if (!root || close < root.index) throw new Error('addAtomTombstones: not an Atom feed document');
  const rootTag = root[0];
  // Declared after the root's own attributes: readers that sniff `<feed xmlns="http://www.w3.org/2005/Atom"` still match.
  const withNs = rootTag.includes('xmlns:at=') ? rootTag : `${rootTag.slice(0, -1)} xmlns:at="${TOMBSTONES_NS}">`;
  const elements = deleted
    .map((d) => `  <at:deleted-entry ref="${escapeAttribute(d.ref)}" when="${d.when.toISOString()}"/>\n`)
    .join('');
  const head = xml.slice(0, root.index) + withNs + xml.slice(root.index + rootTag.length, close);
  // The builder ends the last child with a newline before </feed>; keep one element per line.
  return `${head}${head.endsWith('\n') ? '' : '\n'}${elements}${xml.slice(close)}`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
