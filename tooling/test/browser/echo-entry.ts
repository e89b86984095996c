// Runs in the page: exercises typed-array/bigint conversion, served files and isolation.
export default async function run(args: { file?: string; fail?: string }) {
  if (args.fail !== undefined) throw new RangeError(args.fail);
  const served = args.file === undefined ? null : new Uint8Array(await (await fetch(args.file)).arrayBuffer());
  const missing = await fetch('/no/such/file');
  return {
    floats: new Float32Array([0.5, -1.25]),
    ints: BigInt64Array.from([1n, 2n ** 60n]),
    served,
    missingStatus: missing.status,
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  };
}
