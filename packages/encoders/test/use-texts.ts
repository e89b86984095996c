/// <reference types="node" />
// Shared fixtures for the Universal Sentence Encoder tests and benchmark: real texts (Debian
// `fortunes` entries) and edge cases. Not a test file itself.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const FORTUNES_DIR = '/usr/share/games/fortunes';

/** Categories sampled for the equivalence tests: different styles and lengths. */
export const FORTUNE_CATEGORIES = [
  'fortunes',
  'computers',
  'science',
  'literature',
  'people',
  'wisdom',
  'humorists',
  'linux',
  'politics',
  'work',
  'love',
  'art',
] as const;

/** Entries of one strfile-format fortune file (separated by lines holding a single `%`). */
export function readFortunes(category: string): string[] {
  const text = readFileSync(join(FORTUNES_DIR, category), 'utf8');
  return text
    .split(/\r?\n%\r?\n/)
    .map((entry) => entry.replace(/\n%\s*$/, '').trim())
    .filter((entry) => entry.length > 0);
}

/** Whether the fortunes package is installed (tests are skipped with a reason otherwise). */
export function fortunesAvailable(): boolean {
  return FORTUNE_CATEGORIES.every((category) => existsSync(join(FORTUNES_DIR, category)));
}

/** `perCategory` entries from each category, evenly spaced through the file (deterministic). */
export function sampleFortunes(perCategory: number): string[] {
  const out: string[] = [];
  for (const category of FORTUNE_CATEGORIES) {
    const entries = readFortunes(category);
    const stride = Math.max(1, Math.floor(entries.length / perCategory));
    for (let i = 0, taken = 0; i < entries.length && taken < perCategory; i += stride, taken++) {
      out.push(entries[i]!);
    }
  }
  return out;
}

/** Inputs that stress normalisation, unknown symbols and length. */
export const EDGE_CASES: readonly string[] = [
  '',
  ' ',
  '    ',
  '\t\n  \r\n',
  'a',
  '.',
  '!!!???...',
  '"Hello," she said -- (quietly); [really?] {yes} <no> @#$%^&*_+=|\\/~`',
  ':30 :) :-) :( ://',
  '”5 ”5',
  'café naïve Zürich façade',
  'e\u0301 vs \u00e9 (combining accent)',
  'ﬁ ﬂ ① ² Ⅻ ｆｕｌｌｗｉｄｔｈ', // NFKC compatibility forms
  'non\u00a0breaking\u2003spaces\u200bzero width',
  '日本語のテキストです。',
  'Привет, мир! Как дела?',
  'مرحبا بالعالم',
  'שלום עולם',
  'नमस्ते दुनिया',
  '😀🎉👍🏽 emoji 🚀',
  '👨‍👩‍👧‍👦 family',
  'lone surrogate \ud800 here',
  'control \u0000\u0007 chars',
  'UPPER CASE TEXT SHOUTING',
  'http://example.com/path?query=1&b=2 user@example.org',
  '3.14159 2,718 1e-10 42%',
  'word '.repeat(400).trim(),
  'The quick brown fox jumps over the lazy dog. '.repeat(60).trim(),
  'x'.repeat(3000),
  '😀'.repeat(300),
];

/** Path of a file inside an installed package (resolved from this package). */
export function packageFile(packageName: string, file: string): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${packageName}/package.json`)), file);
}

/** Version of an installed package. */
export function packageVersion(packageName: string): string {
  const json = JSON.parse(readFileSync(packageFile(packageName, 'package.json'), 'utf8')) as {
    version: string;
  };
  return json.version;
}
