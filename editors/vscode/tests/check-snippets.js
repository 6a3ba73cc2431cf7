#!/usr/bin/env node
// Expands every snippet in snippets/proc.json with its default placeholder values, puts it into a small file with
// the declarations it refers to, and checks that file with `procc check`. Each snippet must give valid Proc.
//
//   node tests/check-snippets.js [path/to/procc]      (default: $PROCC, else <repo>/target/debug/procc)
// Exits 1 if any snippet does not check, 2 if procc cannot be run.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const extDir = path.resolve(__dirname, '..');
const repo = path.resolve(extDir, '..', '..');
const procc = process.argv[2] || process.env.PROCC || path.join(repo, 'target', 'debug', 'procc');
const snippets = JSON.parse(fs.readFileSync(path.join(extDir, 'snippets', 'proc.json'), 'utf8'));

/** Expands VS Code snippet syntax with the default value of every placeholder (mirrors get the same value). */
function expand(body) {
  const values = new Map();
  // First pass: collect the defaults of `${n:default}` (innermost first, so nested placeholders resolve).
  const parse = (text, pos, stopAtBrace) => {
    let out = '';
    while (pos < text.length) {
      const ch = text[pos];
      if (ch === '\\' && pos + 1 < text.length && '$}\\'.includes(text[pos + 1])) {
        out += text[pos + 1];
        pos += 2;
      } else if (stopAtBrace && ch === '}') {
        return { out, pos: pos + 1 };
      } else if (ch === '$') {
        let m;
        const rest = text.slice(pos);
        if ((m = /^\$(\d+)/.exec(rest)) || (m = /^\$\{(\d+)\}/.exec(rest))) {
          out += `\u0000${m[1]}\u0000`; // mirror: resolved in the second pass
          pos += m[0].length;
        } else if ((m = /^\$\{(\d+)\|([^|]*)\|\}/.exec(rest))) {
          const first = m[2].split(',')[0];
          values.set(m[1], first);
          out += first;
          pos += m[0].length;
        } else if ((m = /^\$\{(\d+):/.exec(rest))) {
          const inner = parse(text, pos + m[0].length, true);
          values.set(m[1], inner.out);
          out += inner.out;
          pos = inner.pos;
        } else {
          throw new Error(`unsupported snippet syntax at ${JSON.stringify(rest.slice(0, 20))}`);
        }
      } else {
        out += ch;
        pos += 1;
      }
    }
    if (stopAtBrace) throw new Error('unclosed placeholder');
    return { out, pos };
  };
  let text = parse(body, 0, false).out;
  for (let i = 0; i < 5 && text.includes('\u0000'); i++) {
    text = text.replace(/\u0000(\d+)\u0000/g, (_, n) => (n === '0' ? '' : values.get(n) ?? ''));
  }
  return text.replace(/\t/g, '  ');
}

// Declarations the snippets' defaults refer to. `top` snippets go after them at the top level; `flow` snippets
// go inside a process body after a step `assess` (so `assess.urgency`, `assess.breached` exist).
const DECLS = `/// Answers customers.
role Agent
/// Takes escalations.
role Supervisor
/// How urgent a case is.
enum Urgency { low, normal, high }
/// The customer answered.
signal CustomerReplied { message: Text }
/// A case.
record Case {
  /// The customer's name.
  customer: Text
}
/// A case that only needs to be acknowledged.
process complaint(c: Case) {
  /// Acknowledge it.
  step acknowledge "Acknowledge {c.customer}" {
    by Agent
  }
  complete
}
/// A process with no input, for schedules.
process review() {
  /// Review.
  step look "Review the procedures" {
    by Agent
  }
  complete
}
`;
const indent = (text, n) => text.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');
const CONTEXTS = {
  none: (s) => `${s}\n`,
  top: (s) => `${DECLS}\n${s}\n`,
  flow: (s) => `${DECLS}
/// Hosts a snippet.
process host(c: Case, items: [Text]) within 30d {
  /// Assess.
  step assess "Assess" -> urgency: Urgency {
    by Agent
    within 2h
  }
${indent(s, 2)}
  complete
}
`,
  stepBody: (s) => `${DECLS}
/// Hosts a snippet.
process host(c: Case) {
  /// Work.
  step work "Work" {
    by Agent
    within 4h
${indent(s, 4)}
  }
  complete
}
`,
};
const CONTEXT_OF = {
  Process: 'top', Procedure: 'top', Role: 'none', Record: 'none', Enum: 'none', Signal: 'none', Action: 'none',
  Calendar: 'none', Schedule: 'top', KPI: 'top', Test: 'top', Use: 'top',
  Step: 'flow', 'Step with outputs': 'flow', Match: 'flow', If: 'flow', 'If else': 'flow', Parallel: 'flow',
  'First with timeout': 'flow', 'For each': 'flow', Repeat: 'flow', Await: 'flow', 'On breach': 'stepBody',
};

const probe = spawnSync(procc, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(`cannot run ${procc}: ${probe.error ? probe.error.message : probe.stderr}`);
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-snippets-'));
let failed = 0;
for (const [name, snippet] of Object.entries(snippets)) {
  const context = CONTEXT_OF[name];
  const body = Array.isArray(snippet.body) ? snippet.body.join('\n') : snippet.body;
  if (!context) {
    console.log(`FAIL ${name}: no context in tests/check-snippets.js`);
    failed++;
    continue;
  }
  const file = path.join(dir, `${snippet.prefix}.proc`);
  fs.writeFileSync(file, CONTEXTS[context](expand(body)));
  const r = spawnSync(procc, ['check', '--format', 'short', '--color', 'never', file], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.trim();
  const warnings = out.split('\n').filter((l) => /warning/i.test(l) && !/^checked/.test(l));
  if (r.status === 0) {
    console.log(`ok   ${name.padEnd(20)} (${snippet.prefix})${warnings.length ? `  [${warnings.length} warning(s)]` : ''}`);
  } else {
    failed++;
    console.log(`FAIL ${name} (${snippet.prefix}): ${file}\n${out}`);
  }
}
if (failed === 0 && !process.env.KEEP_SNIPPETS) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`expanded snippets are in ${dir}`);
console.log(`${Object.keys(snippets).length - failed} of ${Object.keys(snippets).length} snippets check with ${procc}`);
process.exit(failed ? 1 : 0);
