import { generateOpml, type Opml } from 'feedsmith';
import { postProcessXml } from './xml-post-process.js';

export interface OpmlInput {
  title: string;
  ownerName?: string;
  /** Fixed by the caller (for example the newest category change), never "now": output is byte-stable. */
  dateCreated: Date;
  outlines: { title: string; description?: string; xmlUrl: string; htmlUrl: string; type: 'rss' }[];
}

/**
 * OPML 2.0 subscription list (one outline per category feed), as the exact bytes to serve.
 * OPML 2.0 requires `text` on every outline; subscription lists also carry `title` (many readers
 * show it instead of text), `type="rss"`, `xmlUrl` and `htmlUrl`.
 */
export function renderOpml(input: OpmlInput): string {
  const document: Opml.Document<Date, [], true> = {
    head: {
      title: input.title,
      ownerName: input.ownerName?.trim() ? input.ownerName : undefined,
      dateCreated: input.dateCreated,
    },
    body: {
      outlines: input.outlines.map((outline) => ({
        text: outline.title,
        title: outline.title,
        type: outline.type,
        description: outline.description?.trim() ? outline.description : undefined,
        xmlUrl: outline.xmlUrl,
        htmlUrl: outline.htmlUrl,
      })),
    },
  };
  return postProcessXml(generateOpml(document, { strict: true }));
}
