import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The project's reference data (CLIP tokenizer and preprocessing goldens, sample images, the
 * published ImageNet prior), read in place and never committed: `$GLA_SHARED_DIR` if set, else
 * `shared/` beside the repository (`../shared`).
 */
export const SHARED_DIR = process.env.GLA_SHARED_DIR ? resolve(process.env.GLA_SHARED_DIR) : resolve(repositoryRoot, '../shared');
