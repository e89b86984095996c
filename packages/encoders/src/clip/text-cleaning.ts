/**
 * CLIP's text cleaning, as in OpenAI's `simple_tokenizer.py`, minus ftfy:
 *   1. Unicode NFC normalisation (stands in for `ftfy.fix_text`, which repairs mojibake; not
 *      reproduced here — text that needs ftfy's repairs tokenises differently than in Python);
 *   2. HTML unescape, twice (`html.unescape(html.unescape(text))`): numeric references exactly as
 *      Python (including its Windows-1252 fix-ups and dropped control code points) and the named
 *      references in {@link NAMED_ENTITIES} (the common subset of HTML5's 2,231 names);
 *   3. strip, collapse runs of Unicode White_Space to one space, strip again;
 *   4. lower-casing (`String.prototype.toLowerCase`, the same full Unicode mapping as Python's
 *      `str.lower`).
 */

/** Named character references understood by {@link htmlUnescape}. `legacy` ones work without `;`. */
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  deg: '\u00b0',
  plusmn: '\u00b1',
  middot: '\u00b7',
  laquo: '\u00ab',
  raquo: '\u00bb',
  times: '\u00d7',
  divide: '\u00f7',
  eacute: '\u00e9',
  egrave: '\u00e8',
  aacute: '\u00e1',
  agrave: '\u00e0',
  uuml: '\u00fc',
  ouml: '\u00f6',
  auml: '\u00e4',
  szlig: '\u00df',
  ccedil: '\u00e7',
  ntilde: '\u00f1',
  iexcl: '\u00a1',
  iquest: '\u00bf',
  sect: '\u00a7',
  para: '\u00b6',
  pound: '\u00a3',
  yen: '\u00a5',
  cent: '\u00a2',
};
/** Entities HTML5 only recognises with their semicolon. */
const SEMICOLON_ONLY: Record<string, string> = {
  apos: "'",
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  bull: '\u2022',
  euro: '\u20ac',
  trade: '\u2122',
};

/** Python's `html._invalid_charrefs`: numeric references remapped by the HTML5 spec. */
const INVALID_CHARREFS = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  [0x80, '\u20ac'],
  [0x81, '\x81'],
  [0x82, '\u201a'],
  [0x83, '\u0192'],
  [0x84, '\u201e'],
  [0x85, '\u2026'],
  [0x86, '\u2020'],
  [0x87, '\u2021'],
  [0x88, '\u02c6'],
  [0x89, '\u2030'],
  [0x8a, '\u0160'],
  [0x8b, '\u2039'],
  [0x8c, '\u0152'],
  [0x8d, '\x8d'],
  [0x8e, '\u017d'],
  [0x8f, '\x8f'],
  [0x90, '\x90'],
  [0x91, '\u2018'],
  [0x92, '\u2019'],
  [0x93, '\u201c'],
  [0x94, '\u201d'],
  [0x95, '\u2022'],
  [0x96, '\u2013'],
  [0x97, '\u2014'],
  [0x98, '\u02dc'],
  [0x99, '\u2122'],
  [0x9a, '\u0161'],
  [0x9b, '\u203a'],
  [0x9c, '\u0153'],
  [0x9d, '\x9d'],
  [0x9e, '\u017e'],
  [0x9f, '\u0178'],
]);

function isInvalidCodePoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's `html.unescape`, with the named references limited to {@link NAMED_ENTITIES}. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (whole, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
      const n = Number.parseInt(digits, hex ? 16 : 10);
      const fixed = INVALID_CHARREFS.get(n);
      if (fixed !== undefined) return fixed;
      if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return '\ufffd';
      if (isInvalidCodePoint(n)) return '';
      return String.fromCodePoint(n);
    }
    if (ref.endsWith(';')) {
      const name = ref.slice(0, -1);
      const hit = NAMED_ENTITIES[name] ?? SEMICOLON_ONLY[name];
      if (hit !== undefined) return hit;
    }
    // Longest legacy name that prefixes the reference (HTML5 "missing semicolon" rule).
    for (let x = ref.length - (ref.endsWith(';') ? 1 : 0); x > 1; x--) {
      const hit = NAMED_ENTITIES[ref.slice(0, x)];
      if (hit !== undefined) return hit + ref.slice(x);
    }
    return whole;
  });
}

/** Python `str.isspace()` characters (what `str.strip()` removes). */
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu');
/** The `regex` module's `\s` in Unicode mode is the White_Space property. */
const WHITE_SPACE_RUN = /\p{White_Space}+/gu;

/** Cleans and lower-cases text the way CLIP does before pre-tokenisation (see module comment). */
export function cleanClipText(text: string): string {
  let t = text.normalize('NFC');
  t = htmlUnescape(htmlUnescape(t)).replace(PY_STRIP, '');
  t = t.replace(WHITE_SPACE_RUN, ' ').replace(PY_STRIP, '');
  return t.toLowerCase();
}
