/**
 * A tokenizer for the HTML that article bodies are mostly made of, several times faster than
 * htmlparser2's (which was most of the sanitiser's time, and the sanitiser most of an ingest's).
 *
 * It has one contract: for every input it accepts, it emits the same open-tag, close-tag and text
 * events, in the same order and with the same decoded values, as htmlparser2's `Parser` in HTML mode
 * with `decodeEntities`. Text may be split into different chunks; only the concatenation is the same.
 * Where the two would part, or where matching htmlparser2 would need its rules for odd markup
 * (implied end tags, raw-text elements, legacy entities without ";", unquoted attributes, CDATA,
 * doctypes), it returns false at once and the caller starts again with htmlparser2. So it decides
 * nothing about safety: the allowlist writer that hears the events is the same either way.
 * tests/domain/common-html-tokenizer.test.ts holds the contract against htmlparser2 on generated and
 * hostile documents, and checks the common markup it must accept.
 */
export interface HtmlEvents {
  onopentag(name: string, attribs: Record<string, string>): void;
  ontext(text: string): void;
  onclosetag(name: string): void;
}

import { decodeHTMLStrict } from 'entities/decode';

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const EQ = 0x3d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BANG = 0x21;
const QUESTION = 0x3f;
const HASH = 0x23;
const DASH = 0x2d;

// The tables below are htmlparser2 10.1.0's own (a test pairs every tag with every open element to
// hold them to the installed version). A start tag closes nothing, except these, which first end an
// open element of the listed kinds (its `openImpliesClose`). Only the innermost element is checked
// here: if it is not in the list htmlparser2 closes nothing either.
const P = ['p'];
const FORM = ['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea'];
const IMPLIES_CLOSE: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  (
    [
      ['tr', ['tr', 'th', 'td']], ['th', ['th']], ['td', ['thead', 'th', 'td']], ['body', ['head', 'link', 'script']],
      ['li', ['li']], ['p', P], ['h1', P], ['h2', P], ['h3', P], ['h4', P], ['h5', P], ['h6', P],
      ['select', FORM], ['input', FORM], ['output', FORM], ['button', FORM], ['datalist', FORM], ['textarea', FORM],
      ['option', ['option']], ['optgroup', ['optgroup', 'option']], ['dd', ['dd', 'dt']], ['dt', ['dd', 'dt']],
      ['address', P], ['article', P], ['aside', P], ['blockquote', P], ['details', P], ['div', P], ['dl', P],
      ['fieldset', P], ['figcaption', P], ['figure', P], ['footer', P], ['form', P], ['header', P], ['hr', P],
      ['main', P], ['nav', P], ['ol', P], ['pre', P], ['section', P], ['table', P], ['ul', P],
      ['rt', ['rt', 'rp']], ['rp', ['rt', 'rp']], ['tbody', ['thead', 'tbody']], ['tfoot', ['thead', 'tbody']],
    ] as const
  ).map(([name, closes]) => [name, new Set<string>(closes)]),
);

// htmlparser2's void elements: opened and closed at once, never on the stack.
const VOID: ReadonlySet<string> = new Set([
  'area', 'base', 'basefont', 'br', 'col', 'command', 'embed', 'frame', 'hr', 'img', 'input', 'isindex',
  'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr',
]);

// Elements whose content htmlparser2 reads by other rules: raw text (script, style, title, textarea,
// xmp) or foreign content (svg, math: self-closing tags count there). Left to htmlparser2.
const REFUSED: ReadonlySet<string> = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'svg', 'math']);

// The most common named references, looked up without the decoder.
const NAMED: ReadonlyMap<string, string> = new Map([
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['nbsp', '\u00a0'],
]);

function isWhitespace(c: number): boolean {
  // htmlparser2's set: space, \n, \t, \f, \r.
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x0d;
}

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

function isAttributeNameChar(c: number): boolean {
  return isAlnum(c) || c === DASH || c === 0x5f || c === 0x3a || c === 0x2e;
}

/**
 * Emits `html`'s events to `handler` and returns true, or returns false as soon as it meets markup it
 * leaves to htmlparser2 (events already emitted are then to be discarded).
 */
export function tokenizeCommonHtml(html: string, handler: HtmlEvents): boolean {
  const stack: string[] = [];
  const end = html.length;
  let pos = 0;
  let nextAmp = html.indexOf('&');
  while (pos < end) {
    let lt = html.indexOf('<', pos);
    if (lt === -1) lt = end;
    // Text up to the next "<", its references decoded.
    while (nextAmp !== -1 && nextAmp < lt) {
      const ref = readReference(html, nextAmp, lt);
      if (ref === null) return false;
      if (nextAmp > pos) handler.ontext(html.slice(pos, nextAmp));
      handler.ontext(ref.text);
      pos = ref.end;
      nextAmp = html.indexOf('&', pos);
    }
    if (lt > pos) handler.ontext(html.slice(pos, lt));
    if (lt === end) break;
    const c = html.charCodeAt(lt + 1);
    if (isAlpha(c)) {
      const next = readStartTag(html, lt, stack, handler);
      if (next === -1) return false;
      pos = next;
    } else if (c === SLASH) {
      const next = readEndTag(html, lt, stack, handler);
      if (next === -1) return false;
      pos = next;
    } else if (c === BANG) {
      // A comment only, written plainly: it ends at the first "-->" (an empty "<!-->" or "<!--->"
      // ends sooner in htmlparser2, so those are refused). Comments write nothing.
      if (!html.startsWith('<!--', lt)) return false;
      const first = html.charCodeAt(lt + 4);
      if (first === GT || first === DASH) return false;
      const close = html.indexOf('-->', lt + 4);
      if (close === -1) return false;
      pos = close + 3;
    } else if (c === QUESTION || Number.isNaN(c)) {
      return false;
    } else {
      // "<" before anything that cannot start a tag ("a < b", "<3") is text, as in htmlparser2.
      handler.ontext('<');
      pos = lt + 1;
    }
    if (nextAmp !== -1 && nextAmp < pos) nextAmp = html.indexOf('&', pos);
  }
  // As htmlparser2 at the end of input: the elements still open are closed, innermost first.
  for (let i = stack.length - 1; i >= 0; i--) handler.onclosetag(stack[i]!);
  return true;
}

/** A tag name of letters and digits ending where htmlparser2 ends it, lower-cased; or null. */
function readName(html: string, from: number, endsAt: (c: number) => boolean): { name: string; end: number } | null {
  let i = from;
  let c = html.charCodeAt(i);
  while (isAlnum(c)) c = html.charCodeAt(++i);
  if (!endsAt(c)) return null;
  return { name: html.slice(from, i).toLowerCase(), end: i };
}

function endsStartTagName(c: number): boolean {
  return c === GT || c === SLASH || isWhitespace(c);
}

function endsEndTagName(c: number): boolean {
  return c === GT || isWhitespace(c);
}

/** Reads the start tag at `lt`, emits it; returns the index after it, or -1 to refuse. */
function readStartTag(html: string, lt: number, stack: string[], handler: HtmlEvents): number {
  const tag = readName(html, lt + 1, endsStartTagName);
  if (tag === null) return -1;
  const { name } = tag;
  if (REFUSED.has(name)) return -1;
  const closes = IMPLIES_CLOSE.get(name);
  if (closes !== undefined && stack.length > 0 && closes.has(stack[stack.length - 1]!)) return -1;
  const attribs: Record<string, string> = {};
  let i = tag.end;
  for (;;) {
    let c = html.charCodeAt(i);
    while (isWhitespace(c)) c = html.charCodeAt(++i);
    if (c === GT) {
      i++;
      break;
    }
    if (c === SLASH) {
      // "<br />": a void element closes itself anyway; "<p/>" is only an opening tag in HTML, and refused.
      if (html.charCodeAt(i + 1) !== GT || !VOID.has(name)) return -1;
      i += 2;
      break;
    }
    const start = i;
    while (isAttributeNameChar(c)) c = html.charCodeAt(++i);
    if (i === start) return -1;
    const attr = html.slice(start, i).toLowerCase();
    let value = '';
    if (c === EQ) {
      const quote = html.charCodeAt(i + 1);
      if (quote !== DQUOTE && quote !== SQUOTE) return -1;
      const close = html.indexOf(quote === DQUOTE ? '"' : "'", i + 2);
      if (close === -1) return -1;
      const decoded = decodeAttributeValue(html, i + 2, close);
      if (decoded === null) return -1;
      value = decoded;
      i = close + 1;
    } else if (!endsStartTagName(c)) {
      return -1;
    }
    // ("name =value", one attribute with a value to htmlparser2, is refused at the "=": no name starts with one.)
    // As htmlparser2: the first of repeated attributes wins (same test, so same object either way).
    if (!Object.prototype.hasOwnProperty.call(attribs, attr)) attribs[attr] = value;
  }
  if (!VOID.has(name)) stack.push(name);
  handler.onopentag(name, attribs);
  if (VOID.has(name)) handler.onclosetag(name);
  return i;
}

/** Reads the end tag at `lt`, emits it; returns the index after it, or -1 to refuse. */
function readEndTag(html: string, lt: number, stack: string[], handler: HtmlEvents): number {
  if (!isAlpha(html.charCodeAt(lt + 2))) return -1;
  const tag = readName(html, lt + 2, endsEndTagName);
  if (tag === null) return -1;
  let i = tag.end;
  while (isWhitespace(html.charCodeAt(i))) i++;
  if (html.charCodeAt(i) !== GT) return -1;
  // Only the innermost element's own end tag: any other closes several elements, opens a "p" or a
  // "br", or is ignored, by htmlparser2's rules.
  if (stack.length === 0 || stack[stack.length - 1] !== tag.name) return -1;
  stack.pop();
  handler.onclosetag(tag.name);
  return i + 1;
}

/** The text of `html[from, to)` with its references decoded, or null if one is not taken here. */
function decodeAttributeValue(html: string, from: number, to: number): string | null {
  // Searched within the value only: an indexOf on the whole body would run to its end (or its next
  // "&") for every attribute.
  const raw = html.slice(from, to);
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let pos = 0;
  while (amp !== -1) {
    const ref = readReference(raw, amp, raw.length);
    if (ref === null) return null;
    out += raw.slice(pos, amp) + ref.text;
    pos = ref.end;
    amp = raw.indexOf('&', pos);
  }
  return out + raw.slice(pos);
}

/**
 * The character reference at `amp` (before `limit`), if written in full with its ";" and decoded by
 * htmlparser2 to the same text in text and in attributes: an HTML name, or a number that is not one
 * htmlparser2 replaces (0, C1 controls, surrogates, beyond U+10FFFF) nor a character XML forbids.
 * Otherwise null.
 */
function readReference(html: string, amp: number, limit: number): { text: string; end: number } | null {
  // "fish & chips": an "&" before white space is no reference, and stays as written.
  if (isWhitespace(html.charCodeAt(amp + 1))) return { text: '&', end: amp + 1 };
  // The ";" within the next few characters (a longer name is left to htmlparser2).
  let semi = amp + 1;
  const last = Math.min(limit, amp + 11);
  while (semi < last && html.charCodeAt(semi) !== 0x3b) semi++;
  if (semi >= last) return null;
  if (html.charCodeAt(amp + 1) !== HASH) {
    const name = html.slice(amp + 1, semi);
    const common = NAMED.get(name);
    if (common !== undefined) return { text: common, end: semi + 1 };
    // Any other HTML name, whole and with its ";": htmlparser2's decoder (the same entities package)
    // takes the longest name that matches, which is then this one. Letters and digits only.
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) return null;
    const reference = html.slice(amp, semi + 1);
    const text = decodeHTMLStrict(reference);
    return text === reference ? null : { text, end: semi + 1 };
  }
  const hex = (html.charCodeAt(amp + 2) | 0x20) === 0x78;
  const digits = html.slice(amp + (hex ? 3 : 2), semi);
  if (digits === '' || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return null;
  const cp = parseInt(digits, hex ? 16 : 10);
  if (cp === 0 || (cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return null;
  // Nor a character XML forbids ("&#1;", "&#xFFFE;"): text this tokenizer accepts then holds only the
  // input's characters and allowed ones, and needs no second cleaning (sanitizeArticleHtml relies on it).
  if ((cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || cp === 0x7f || cp === 0xfffe || cp === 0xffff) return null;
  return { text: String.fromCodePoint(cp), end: semi + 1 };
}
