import { EncoderError } from './errors';

/**
 * The 80 ImageNet prompt templates of the CLIP paper's prompt-engineering notebook (OpenAI,
 * `Prompt_Engineering_for_ImageNet.ipynb`). `{}` is replaced by the class name.
 */
export const IMAGENET_TEMPLATES: readonly string[] = Object.freeze([
  'a bad photo of a {}.',
  'a photo of many {}.',
  'a sculpture of a {}.',
  'a photo of the hard to see {}.',
  'a low resolution photo of the {}.',
  'a rendering of a {}.',
  'graffiti of a {}.',
  'a bad photo of the {}.',
  'a cropped photo of the {}.',
  'a tattoo of a {}.',
  'the embroidered {}.',
  'a photo of a hard to see {}.',
  'a bright photo of a {}.',
  'a photo of a clean {}.',
  'a photo of a dirty {}.',
  'a dark photo of the {}.',
  'a drawing of a {}.',
  'a photo of my {}.',
  'the plastic {}.',
  'a photo of the cool {}.',
  'a close-up photo of a {}.',
  'a black and white photo of the {}.',
  'a painting of the {}.',
  'a painting of a {}.',
  'a pixelated photo of the {}.',
  'a sculpture of the {}.',
  'a bright photo of the {}.',
  'a cropped photo of a {}.',
  'a plastic {}.',
  'a photo of the dirty {}.',
  'a jpeg corrupted photo of a {}.',
  'a blurry photo of the {}.',
  'a photo of the {}.',
  'a good photo of the {}.',
  'a rendering of the {}.',
  'a {} in a video game.',
  'a photo of one {}.',
  'a doodle of a {}.',
  'a close-up photo of the {}.',
  'a photo of a {}.',
  'the origami {}.',
  'the {} in a video game.',
  'a sketch of a {}.',
  'a doodle of the {}.',
  'a origami {}.',
  'a low resolution photo of a {}.',
  'the toy {}.',
  'a rendition of the {}.',
  'a photo of the clean {}.',
  'a photo of a large {}.',
  'a rendition of a {}.',
  'a photo of a nice {}.',
  'a photo of a weird {}.',
  'a blurry photo of a {}.',
  'a cartoon {}.',
  'art of a {}.',
  'a sketch of the {}.',
  'a embroidered {}.',
  'a pixelated photo of a {}.',
  'itap of the {}.',
  'a jpeg corrupted photo of the {}.',
  'a good photo of a {}.',
  'a plushie {}.',
  'a photo of the nice {}.',
  'a photo of the small {}.',
  'a photo of the weird {}.',
  'the cartoon {}.',
  'art of the {}.',
  'a drawing of the {}.',
  'a photo of the large {}.',
  'a black and white photo of a {}.',
  'the plushie {}.',
  'a dark photo of a {}.',
  'itap of a {}.',
  'graffiti of the {}.',
  'a toy {}.',
  'itap of my {}.',
  'a photo of a cool {}.',
  'a photo of a small {}.',
  'a tattoo of the {}.',
]);

/** CLIP's single default template. */
export const DEFAULT_TEMPLATE = 'a photo of a {}.';

/**
 * Single per-task templates in the style of the CLIP paper's data-set prompts (use
 * {@link IMAGENET_TEMPLATES} for ImageNet-like ensembles).
 */
export const TASK_TEMPLATES = Object.freeze({
  generic: 'a photo of a {}.',
  cifar10: 'a photo of a {}.',
  cifar100: 'a photo of a {}.',
  food101: 'a photo of {}, a type of food.',
  oxfordPets: 'a photo of a {}, a type of pet.',
  flowers102: 'a photo of a {}, a type of flower.',
  fgvcAircraft: 'a photo of a {}, a type of aircraft.',
  eurosat: 'a centered satellite photo of {}.',
  dtd: '{} texture.',
  ucf101: 'a photo of a person doing {}.',
  sun397: 'a photo of a {}.',
  stanfordCars: 'a photo of a {}.',
  caltech101: 'a photo of a {}.',
  fashionMnist: 'a photo of a {}, a type of clothing.',
} as const);

/**
 * Validates prompt templates: a non-empty list of strings each containing `{}`.
 * @throws EncoderError `invalid-template` naming the offending template and its index.
 */
export function checkTemplates(templates: readonly string[]): void {
  if (!Array.isArray(templates) || templates.length === 0) {
    throw new EncoderError('invalid-template', 'templates must be a non-empty array of strings containing "{}"');
  }
  templates.forEach((t, i) => {
    if (typeof t !== 'string' || !t.includes('{}')) {
      throw new EncoderError('invalid-template', `template ${i} (${JSON.stringify(t)}) has no "{}" placeholder for the class name`);
    }
  });
}

/**
 * Validates the class names of a zero-shot task (the text put into the prompts, e.g. `'cat'`):
 * a non-empty list of non-empty strings. Integer labels (class indices) are checked by @gla/core.
 * @throws EncoderError `empty-labels` for an empty list, `invalid-input` for a bad entry.
 */
export function checkClassNames(classNames: readonly string[]): void {
  if (!Array.isArray(classNames) || classNames.length === 0) {
    throw new EncoderError('empty-labels', 'zero-shot classification needs at least one class name, got none');
  }
  classNames.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '')
      throw new EncoderError('invalid-input', `class name ${i} is ${JSON.stringify(name)}, expected a non-empty string`);
  });
}

/** The template with every `{}` replaced by `className` (Python's `template.format(name)` for one `{}`). */
export function fillTemplate(template: string, className: string): string {
  return template.split('{}').join(className);
}

/**
 * All prompts of a zero-shot head, TEMPLATE-major (the order `@gla/core`'s `zeroShotHead`
 * expects): prompt `t * classNames.length + c` is template t filled with class name c.
 */
export function expandPrompts(classNames: readonly string[], templates: readonly string[]): string[] {
  checkClassNames(classNames);
  checkTemplates(templates);
  const out: string[] = [];
  for (const t of templates) for (const name of classNames) out.push(fillTemplate(t, name));
  return out;
}
