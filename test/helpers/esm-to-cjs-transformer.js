// Jest (CommonJS runtime, Node < 24.9) cannot require ES modules; the built app can (Node ≥ 20.19 require(esm)).
// openid-client v6 and its dependencies (oauth4webapi, jose) ship ES modules only, so under Jest they are compiled to
// CommonJS with TypeScript's transpiler (no type checking, syntax only).
const ts = require('typescript');
const { createHash } = require('node:crypto');

module.exports = {
  process(source, filename) {
    const out = ts.transpileModule(source, { fileName: filename, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false, allowJs: true } });
    return { code: out.outputText };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update('esm-to-cjs-1').update(filename).update(source).digest('hex');
  },
};
