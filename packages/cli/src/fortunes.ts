import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFortunes } from '@gla/datasets';
import { CliError } from './errors';

/** Where Debian's `fortunes` package installs its category files. */
export const FORTUNES_DIR = '/usr/share/games/fortunes';

/** A named text-classification task made of fortune categories. */
export interface FortuneTask {
  name: string;
  description: string;
  /** Fortune file names (the classes). */
  categories: string[];
  /** Prompt-friendly class names, same order. */
  promptNames: string[];
}

/**
 * Prompt templates for the zero-shot head (decided once, before any experiment; never tuned on a
 * test split). A fortune is a quote, a joke or a saying; "{}" alone is the bare class name.
 */
export const FORTUNE_TEMPLATES = ['a quote about {}.', 'a joke about {}.', 'a saying about {}.', '{}'];

/** The main task: the 22 topical categories of the issue (~8,400 entries, 52..1050 per class). */
export const FORTUNES_MAIN: FortuneTask = {
  name: 'fortunes',
  description: '22 topical categories of Debian fortunes',
  categories: [
    'art',
    'computers',
    'drugs',
    'education',
    'food',
    'kids',
    'law',
    'linux',
    'literature',
    'love',
    'medicine',
    'news',
    'pets',
    'politics',
    'science',
    'songs-poems',
    'sports',
    'startrek',
    'work',
    'riddles',
    'men-women',
    'wisdom',
  ],
  promptNames: [
    'art',
    'computers',
    'drugs',
    'education',
    'food',
    'kids',
    'law',
    'Linux',
    'literature',
    'love',
    'medicine',
    'news',
    'pets',
    'politics',
    'science',
    'songs and poems',
    'sports',
    'Star Trek',
    'work',
    'riddles',
    'men and women',
    'wisdom',
  ],
};

/**
 * The second real data set: 12 fortune files disjoint from the main 22, mostly "who/what kind of
 * text" categories (definitions, people, humorists, Zippy, Perl, Debian, paradoxes, ...).
 */
export const FORTUNES_OTHER: FortuneTask = {
  name: 'fortunes-other',
  description: '12 other Debian fortunes files (disjoint from the main 22)',
  categories: [
    'definitions',
    'ethnic',
    'humorists',
    'people',
    'platitudes',
    'paradoxum',
    'zippy',
    'perl',
    'debian',
    'goedel',
    'tao',
    'disclaimer',
  ],
  promptNames: [
    'definitions',
    'ethnic groups',
    'humorists',
    'famous people',
    'platitudes',
    'paradoxes',
    'Zippy the Pinhead',
    'Perl programming',
    'Debian',
    'logic and mathematics',
    'the Tao',
    'disclaimers',
  ],
};

export const FORTUNE_TASKS: Record<string, FortuneTask> = { [FORTUNES_MAIN.name]: FORTUNES_MAIN, [FORTUNES_OTHER.name]: FORTUNES_OTHER };

export interface FortuneTexts {
  texts: string[];
  labels: Int32Array;
  counts: number[];
}

/** Reads every entry of the task's categories (in category order). */
export async function loadFortuneTexts(task: FortuneTask, dir = FORTUNES_DIR): Promise<FortuneTexts> {
  const texts: string[] = [];
  const labels: number[] = [];
  const counts: number[] = [];
  for (let c = 0; c < task.categories.length; c++) {
    const file = join(dir, task.categories[c]!);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch {
      throw new CliError('io', `cannot read ${file}: install Debian's fortunes packages (apt-get install fortunes fortunes-min)`);
    }
    const { entries } = parseFortunes(bytes);
    counts.push(entries.length);
    for (const e of entries) {
      texts.push(e.replace(/\s+/g, ' ').trim());
      labels.push(c);
    }
  }
  return { texts, labels: Int32Array.from(labels), counts };
}

/** Fills each template with each prompt name: templates x classes strings, template-major. */
export function classPrompts(templates: readonly string[], promptNames: readonly string[]): string[] {
  return templates.flatMap((t) => promptNames.map((n) => t.replace('{}', n)));
}
