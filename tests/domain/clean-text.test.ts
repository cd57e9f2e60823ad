import { describe, expect, it } from 'vitest';
import {
  cleanPlainText,
  codePointLength,
  collapseWhitespace,
  stripMarkup,
  stripXmlIllegal,
} from '../../src/domain/clean-text.js';

describe('stripXmlIllegal', () => {
  it('removes C0 controls except tab, newline and carriage return', () => {
    const c0 = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');
    expect(stripXmlIllegal(`a${c0}b`)).toBe('a\t\n\rb');
  });

  it('removes DEL and every C1 control, NEL included', () => {
    expect(stripXmlIllegal('a\u007Fb\u0080c\u0085d\u009Fe')).toBe('abcde');
  });

  it('removes U+FFFE and U+FFFF but keeps U+FFFD and U+FEFF', () => {
    expect(stripXmlIllegal('a\uFFFEb\uFFFFc\uFFFDd\uFEFF')).toBe('abc\uFFFDd\uFEFF');
  });

  it('removes lone high and low surrogates, keeps valid pairs (emoji)', () => {
    expect(stripXmlIllegal('x\uD800y')).toBe('xy');
    expect(stripXmlIllegal('x\uDC00y')).toBe('xy');
    expect(stripXmlIllegal('\uDBFF')).toBe('');
    expect(stripXmlIllegal('\uDC00\uD800')).toBe(''); // reversed pair is two lone halves
    expect(stripXmlIllegal('😀 👩‍👩‍👧 🇬🇧')).toBe('😀 👩‍👩‍👧 🇬🇧');
    expect(stripXmlIllegal('\uD83D\uD83D\uDE00')).toBe('😀'); // a lone high half before a pair
  });

  it('keeps RTL text and direction marks untouched', () => {
    const rtl = 'مرحبا \u200Fשלום\u200E עולם';
    expect(stripXmlIllegal(rtl)).toBe(rtl);
  });
});

describe('collapseWhitespace', () => {
  it('trims and collapses every kind of white space to one space', () => {
    expect(collapseWhitespace(' \t a \n\n b\u00A0\u00A0c\u3000d\u2003 ')).toBe('a b c d');
  });

  it('does not treat joiners or direction marks as white space', () => {
    expect(collapseWhitespace('👨\u200D💻 \u200Fא')).toBe('👨\u200D💻 \u200Fא');
  });
});

describe('cleanPlainText', () => {
  it('strips illegal characters and collapses white space, leaving entities literal', () => {
    expect(cleanPlainText('  Tom\u0000 &amp;\n Jerry  ')).toBe('Tom &amp; Jerry');
  });
});

describe('stripMarkup', () => {
  it('removes tags but keeps their text', () => {
    expect(collapseWhitespace(stripMarkup('<b>Bold</b> and <a href="x">link</a>'))).toBe('Bold and link');
  });

  it('drops script and style elements with their content, closed or not', () => {
    expect(collapseWhitespace(stripMarkup('Hi<script>alert(1)</script> there<style>p{}</style>'))).toBe('Hi there');
    expect(collapseWhitespace(stripMarkup('Hi <SCRIPT type="x">alert(1)'))).toBe('Hi');
  });

  it('drops comments', () => {
    expect(collapseWhitespace(stripMarkup('a<!-- secret -->b'))).toBe('a b');
  });

  it('separates block elements with a space but not inline ones', () => {
    expect(collapseWhitespace(stripMarkup('<p>one</p><p>two</p>line<br>break <b>B</b>old'))).toBe('one two line break Bold');
  });

  it('leaves text that only looks a little like markup', () => {
    expect(stripMarkup('a < b, 3<5, I <3 you, Tom &amp; Jerry &lt;b&gt;')).toBe('a < b, 3<5, I <3 you, Tom &amp; Jerry &lt;b&gt;');
  });
});

describe('codePointLength', () => {
  it('counts an astral emoji as one', () => {
    expect(codePointLength('a😀')).toBe(2);
    expect('a😀'.length).toBe(3);
  });
});
