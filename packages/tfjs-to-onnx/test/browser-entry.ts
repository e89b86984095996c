// Runs in headless Chromium (bundled for the browser by tooling/browser/harness.ts, so a Node
// built-in anywhere under the root entry fails the bundle): converts a TF.js graph model fetched
// from the page's server with the universal root of @gla/tfjs-to-onnx. Used by test/browser.test.ts.
import { convertGraphModel } from '../src/index';

export interface BrowserConvertArgs {
  /** URL path of model.json. */
  readonly modelJson: string;
  /** URL paths of the weight shards, in manifest order. */
  readonly shards: readonly string[];
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export default async function run(args: BrowserConvertArgs) {
  const modelJson = await fetchBytes(args.modelJson);
  const weightData = await Promise.all(args.shards.map(fetchBytes));
  const { onnx, report } = convertGraphModel({ modelJson, weightData });
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', onnx));
  return { sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), bytes: onnx.byteLength, report };
}
