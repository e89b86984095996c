#!/usr/bin/env node
import '@gla/kernels-wasm'; // registers the WebAssembly SIMD kernels with @gla/core (every command uses them)
import { writeSync } from 'node:fs';
import { formatOptions, type OptionSpecs, parseOptions, splitCommand } from './args';
import { removePendingTemporaries } from './atomic';
import { DEBIAS_OPTIONS, debiasCommand, ENSEMBLE_OPTIONS, ensembleCommand, PRIOR_OPTIONS, priorCommand } from './commands/npy-ops';
import { EXPORT_OPTIONS, exportFeaturesCommand, RUN_OPTIONS, runCommand } from './commands/run';
import { SPEED_OPTIONS, speedCommand } from './commands/speed';
import { CliError, missingOptionalPackage } from './errors';
import { resolveUserEnvironment } from './paths';
import { SYNTHETIC_OPTIONS, syntheticCommand } from './synthetic';

interface Command {
  summary: string;
  usage: string;
  options: OptionSpecs;
  run: (options: Record<string, unknown>, print: (line: string) => void, signal: AbortSignal, argv: readonly string[]) => Promise<unknown>;
}

export const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'few-shot + long-tailed experiments with every baseline; writes results.json, results.md, SVG plots',
    usage: 'gla run [--dataset fortunes|fortunes-other | --features DIR] [--out DIR] [--shots 1,2,4,8,16] [--seeds 5]',
    options: RUN_OPTIONS,
    run: (o, print, signal, argv) => runCommand(o as never, print, signal, argv),
  },
  'export-features': {
    summary: 'write the fortunes USE-lite features as a feature directory (for `gla run --features`)',
    usage: 'gla export-features --out DIR [--dataset NAME]',
    options: EXPORT_OPTIONS,
    run: (o, print, signal) => exportFeaturesCommand(o as never, print, signal),
  },
  prior: {
    summary: 'estimate the label prior q of zero-shot logits (GLA estimator) from .npy files',
    usage: 'gla prior --logits Z.npy --labels Y.npy [--temperature nll|match-confidence|T] [--regularization X|auto] --out Q.npy',
    options: PRIOR_OPTIONS,
    run: (o, print) => priorCommand(o as never, print),
  },
  debias: {
    summary: 'debias zero-shot logits: z / T - log q',
    usage: 'gla debias --logits Z.npy --prior Q.npy [--temperature T] --out OUT.npy',
    options: DEBIAS_OPTIONS,
    run: (o, print) => debiasCommand(o as never, print),
  },
  ensemble: {
    summary: 'GLA ensemble f / T_f + z / T_z - log q (- log pi_s + log pi_t), or the plain output ensemble',
    usage: 'gla ensemble --finetuned F.npy --zero-shot Z.npy [--prior Q.npy] --out OUT.npy',
    options: ENSEMBLE_OPTIONS,
    run: (o, print) => ensembleCommand(o as never, print),
  },
  synthetic: {
    summary: 'write a deterministic synthetic feature directory (e.g. 1,000 classes) for `gla run --features`',
    usage: 'gla synthetic --out DIR [--classes 1000] [--dim 512] [--per-class 50] [--seed 123]',
    options: SYNTHETIC_OPTIONS,
    run: (o, print) => syntheticCommand(o as never, print),
  },
  speed: {
    summary: 'speed benchmarks, each against its baseline in the same run',
    usage: 'gla speed [--quick] [--out DIR]',
    options: SPEED_OPTIONS,
    run: (o, print, signal) => speedCommand(o as never, print, signal),
  },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return [
    'gla: Generalized Logit Adjustment experiments and tools',
    '',
    'usage: gla <command> [options]   (gla <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Paths are resolved against the folder you ran the command from.',
  ].join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  return [`usage: ${c.usage}`, '', c.summary, '', 'options:', formatOptions(c.options)].join('\n');
}

/** Runs the CLI; returns the exit status. Output lines go to `print` (stdout by default). */
export async function main(
  argv: readonly string[],
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const { command, rest } = splitCommand(argv);
  resolveUserEnvironment();
  try {
    if (command === undefined || command === 'help') {
      if (command === 'help' && rest[0] && COMMANDS[rest[0]]) print(commandHelp(rest[0]));
      else print(helpText());
      if (command === undefined && rest.length > 0 && !rest.includes('--help') && !rest.includes('-h'))
        throw new CliError('usage', `expected a command before '${rest[0]}'`);
      return 0;
    }
    const spec = COMMANDS[command];
    if (!spec) throw new CliError('unknown-command', `unknown command '${command}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    const { options, positionals } = parseOptions(command, rest, spec.options);
    if (options.help) {
      print(commandHelp(command));
      return 0;
    }
    if (positionals.length > 0)
      throw new CliError('usage', `${command}: unexpected argument '${positionals[0]}' (options are spelled --name VALUE)`);
    await spec.run(options, print, signal, argv);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`gla: ${error.message}\n`);
      if (error.exitCode === 2) process.stderr.write(`(see gla ${command && COMMANDS[command] ? `${command} --help` : '--help'})\n`);
      return error.exitCode;
    }
    const missing = missingOptionalPackage(error);
    if (missing) {
      process.stderr.write(`gla: ${missing}\n`);
      return 1;
    }
    const e = error as { code?: string; name?: string; message?: string };
    if (e?.code === 'aborted' || e?.name === 'AbortError') {
      process.stderr.write('gla: interrupted\n');
      return 130;
    }
    process.stderr.write(`gla: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}${e?.code ? ` [${e.code}]` : ''}\n`);
    if (process.env.GLA_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1] ?? '';
  return /(^|[\\/])cli\.(ts|js|mjs)$/.test(script) || /[\\/]gla$/.test(script);
}

if (isEntryPoint()) {
  const controller = new AbortController();
  let interrupts = 0;
  // Under `pnpm gla`, a Ctrl-C reaches pnpm too, which then sends SIGTERM to this process: both
  // (and SIGHUP) end the run the same way, with one "interrupted" line on stderr.
  const exitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) return;
    controller.abort();
    const removed = removePendingTemporaries();
    writeSync(
      2,
      `\ngla: interrupted (${signal})${removed ? `; removed ${removed} partial file${removed > 1 ? 's' : ''}` : ''}; no result file was half-written\n`,
    );
    process.exit(exitCodes[signal] ?? 130);
  };
  for (const signal of Object.keys(exitCodes) as NodeJS.Signals[]) process.on(signal, onSignal);
  main(process.argv.slice(2), undefined, controller.signal).then(
    (code) => {
      process.exitCode = interrupts ? 130 : code;
    },
    (error) => {
      process.stderr.write(`gla: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
