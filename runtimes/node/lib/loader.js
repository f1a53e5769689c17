'use strict';
// Resolves FC handler strings (`file.export`; the last dot separates) to functions, once.
//
// The file is looked up in the code directory as <file>.js, <file>.cjs, <file>.mjs, <file>/index.js,
// <file>/index.cjs, <file>/index.mjs. CommonJS files load with require(); ES modules (.mjs, or .js under a
// package.json with "type": "module", or whatever require() refuses with ERR_REQUIRE_ESM) with import().
// Successes and failures are both cached: a failed load is reported again on every call, as FC does,
// without running the module's top level again.

const fs = require('fs');
const path = require('path');

const codeDir = process.env.FC_FUNC_CODE_PATH || process.cwd();
const entries = new Map(); // handler string → Entry

/**
 * fn: the function (once loaded); error: the error body (JSON text) to answer with; pending: the promise
 * of an ES module load in progress. wantsCallback: whether it declares the callback parameter (position
 * `callbackIndex`), which decides if an `undefined` result means "answered through the callback later".
 */
class Entry {
  constructor() {
    this.fn = null;
    this.error = null;
    this.pending = null;
    this.wantsCallback = false;
  }
}

function errorOnly(message) {
  return JSON.stringify({ errorMessage: message });
}

function errorLike(name, message) {
  return JSON.stringify({ errorMessage: message, errorType: name, stackTrace: [`${name}: ${message}`] });
}

function isFile(p) {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st !== undefined && st.isFile();
}

function findFile(base) {
  const candidates = [
    base + '.js', base + '.cjs', base + '.mjs',
    path.join(base, 'index.js'), path.join(base, 'index.cjs'), path.join(base, 'index.mjs'),
  ];
  for (const c of candidates) if (isFile(c)) return c;
  if (/\.(c|m)?js$/.test(base) && isFile(base)) return base;
  return null;
}

function isModuleScope(file) {
  let dir = path.dirname(file);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (isFile(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

function declaresCallback(fn, index) {
  if (fn.length > index) return true;
  // A rest parameter (`(...args)`) does not count in fn.length but may receive the callback.
  let src;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return false;
  }
  const open = src.indexOf('(');
  const arrow = src.indexOf('=>');
  if (open === -1 || (arrow !== -1 && arrow < open)) return false; // `x => ...`: one plain parameter
  const close = src.indexOf(')', open);
  const rest = src.indexOf('...', open);
  return close !== -1 && rest !== -1 && rest < close;
}

function pick(entry, mod, exportName, moduleName, callbackIndex) {
  let fn = mod != null ? mod[exportName] : undefined;
  if (typeof fn !== 'function' && mod != null && mod.default != null && typeof mod.default[exportName] === 'function') {
    fn = mod.default[exportName];
  }
  if (typeof fn !== 'function') {
    entry.error = errorOnly(`Handler '${exportName}' missing on module '${moduleName}'`);
    return;
  }
  entry.fn = fn;
  entry.wantsCallback = declaresCallback(fn, callbackIndex);
}

/**
 * The entry for `spec`. When it is loaded or failed, entry.fn / entry.error is set; while an ES module is
 * loading, entry.pending resolves when it is. `errorBody(err)` turns a thrown value into an error body.
 * callbackIndex: 2 for handlers (event, context, callback), 1 for initializers (context, callback).
 */
function load(spec, callbackIndex, errorBody) {
  let entry = entries.get(spec);
  if (entry !== undefined) return entry;
  entry = new Entry();
  entries.set(spec, entry);
  const dot = spec.lastIndexOf('.');
  if (dot <= 0 || dot === spec.length - 1) {
    entry.error = errorOnly(`Invalid handler '${spec}'`);
    return entry;
  }
  const moduleName = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const base = path.resolve(codeDir, moduleName);
  const file = findFile(base);
  if (file === null) {
    entry.error = errorLike('Error', `Cannot find module '${base}.js'`);
    return entry;
  }
  let esm = file.endsWith('.mjs') || (file.endsWith('.js') && isModuleScope(file));
  if (!esm) {
    try {
      pick(entry, require(file), exportName, moduleName, callbackIndex);
      return entry;
    } catch (err) {
      if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
        esm = true;
      } else {
        entry.error = errorBody(err);
        return entry;
      }
    }
  }
  const url = require('url').pathToFileURL(file).href;
  entry.pending = import(url).then(
    (mod) => {
      entry.pending = null;
      pick(entry, mod, exportName, moduleName, callbackIndex);
    },
    (err) => {
      entry.pending = null;
      entry.error = errorBody(err);
    },
  );
  return entry;
}

module.exports = { load, codeDir };
