import { openFortuneDataset } from '@gla/datasets';
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

/**
 * Reads every entry of the task's categories (in category order) with @gla/datasets'
 * openFortuneDataset (strfile parsing, ROT13 from the .dat flags, .u8 handling); whitespace runs
 * are collapsed to single spaces for the encoder.
 */
export async function loadFortuneTexts(task: FortuneTask, dir = FORTUNES_DIR): Promise<FortuneTexts> {
  const texts: string[] = [];
  const labels: number[] = [];
  const counts = new Array<number>(task.categories.length).fill(0);
  try {
    const ds = await openFortuneDataset(dir, { categories: task.categories });
    for await (const batch of ds.batches({ batchSize: 1024 })) {
      for (const item of batch) {
        texts.push(item.text.replace(/\s+/g, ' ').trim());
        labels.push(item.label);
        counts[item.label]!++;
      }
    }
  } catch (error) {
    const e = error as { code?: string; message: string };
    if (e.code === 'not-found' || e.code === 'io' || e.code === 'missing-class-folder')
      throw new CliError('io', `${e.message}: install Debian's fortunes packages (apt-get install fortunes fortunes-min)`);
    throw new CliError('data', e.message);
  }
  return { texts, labels: Int32Array.from(labels), counts };
}
