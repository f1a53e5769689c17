// The console: a hash-routed single page. #/ services, #/s/<svc> a service (functions, versions,
// aliases), #/s/<svc>/f/<fn>/<tab> a function (config, code, test, triggers, logs, async, metrics).
// The DOM is built with h() (text nodes, never innerHTML), so names and logs cannot inject markup.

import { call, fc, setCsrf, enc, ApiError } from './api.js';
import { createZip, readZip, toBase64 } from './zip.js';
import { lineChart } from './chart.js';

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const who = document.getElementById('who');
let session = null;
let cleanup = [];

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function field(label, input) {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, e instanceof ApiError ? e.message : String(e));
}

/** Runs an action, showing its error in `where` (replacing the previous one). */
async function guard(where, action) {
  where.querySelectorAll(':scope > .error').forEach((n) => n.remove());
  try {
    return await action();
  } catch (e) {
    where.prepend(errorBox(e));
    return undefined;
  }
}

function setCrumbs(parts) {
  crumbs.replaceChildren(...parts.flatMap(([text, href], i) => [i ? ' / ' : '', href ? h('a', { href }, text) : h('span', {}, text)]));
}

// ---- sign in / out ------------------------------------------------------------------------------------

function signInPage() {
  setCrumbs([]);
  who.replaceChildren();
  const id = h('input', { name: 'accessKeyId', autocomplete: 'username', required: true });
  const secret = h('input', { name: 'accessKeySecret', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card narrow', id: 'sign-in' },
    h('h1', {}, 'Sign in'),
    field('Access key id', id),
    field('Access key secret', secret),
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await guard(form, async () => {
      session = await call('POST', '/console/api/session', { accessKeyId: id.value, accessKeySecret: secret.value });
      setCsrf(session.csrfToken);
      route();
    });
  });
  main.replaceChildren(form);
}

function showWho() {
  const out = h('button', { class: 'link', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', async () => {
    await call('DELETE', '/console/api/session').catch(() => {});
    session = null;
    setCsrf(null);
    location.hash = '#/';
    signInPage();
  });
  who.replaceChildren(h('span', {}, `${session.accessKeyId} (account ${session.accountId}) `), out);
}

// ---- services -----------------------------------------------------------------------------------------

async function servicesPage() {
  setCrumbs([['Services']]);
  const { services = [] } = await fc('GET', '/2016-08-15/services?limit=100');
  const name = h('input', { name: 'serviceName', required: true, pattern: '[A-Za-z_][A-Za-z0-9_-]{0,127}' });
  const desc = h('input', { name: 'description' });
  const form = h('form', { class: 'card', id: 'create-service' }, h('h2', {}, 'Create service'),
    h('div', { class: 'row' }, field('Name', name), field('Description', desc)), h('button', { type: 'submit' }, 'Create'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(form, async () => {
      await fc('POST', '/2016-08-15/services', { serviceName: name.value, description: desc.value });
      location.hash = `#/s/${enc(name.value)}`;
    });
  });
  const list = h('section', { class: 'card' }, h('h1', {}, 'Services'),
    services.length === 0 ? h('p', { class: 'muted' }, 'No services yet.') :
      h('table', { class: 'list' }, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Description'), h('th', {}, 'Modified')),
        services.map((s) => h('tr', {}, h('td', {}, h('a', { href: `#/s/${enc(s.serviceName)}` }, s.serviceName)),
          h('td', {}, s.description || ''), h('td', { class: 'muted' }, s.lastModifiedTime || '')))));
  main.replaceChildren(list, form);
}

const TEMPLATES = {
  nodejs: ['index.js', "exports.handler = (event, context, callback) => {\n  console.log('event: ' + event.toString());\n  callback(null, 'hello world');\n};\n"],
  python: ['index.py', "import logging\n\ndef handler(event, context):\n    logging.getLogger().info('event: %s', event)\n    return 'hello world'\n"],
};
const RUNTIMES = ['nodejs20', 'nodejs18', 'nodejs16', 'nodejs14', 'python3.12', 'python3.10', 'python3.9', 'python3', 'custom'];

function template(runtime) {
  return runtime.startsWith('python') ? TEMPLATES.python : TEMPLATES.nodejs;
}

async function servicePage(svc) {
  setCrumbs([['Services', '#/'], [svc]]);
  const [service, fns, versions, aliases] = await Promise.all([
    fc('GET', `/2016-08-15/services/${enc(svc)}`),
    fc('GET', `/2016-08-15/services/${enc(svc)}/functions?limit=100`),
    fc('GET', `/2016-08-15/services/${enc(svc)}/versions?limit=100`).catch(() => ({ versions: [] })),
    fc('GET', `/2016-08-15/services/${enc(svc)}/aliases?limit=100`).catch(() => ({ aliases: [] })),
  ]);
  const desc = h('input', { name: 'description', value: service.description || '' });
  const edit = h('form', { class: 'card', id: 'edit-service' }, h('h1', {}, `Service ${svc}`),
    field('Description', desc),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'danger', onclick: () => guard(edit, async () => {
        if (!confirm(`Delete service ${svc}?`)) return;
        await fc('DELETE', `/2016-08-15/services/${enc(svc)}`);
        location.hash = '#/';
      }) }, 'Delete service')));
  edit.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(edit, async () => { await fc('PUT', `/2016-08-15/services/${enc(svc)}`, { description: desc.value }); route(); });
  });

  const functions = fns.functions || [];
  const list = h('section', { class: 'card' }, h('h2', {}, 'Functions'),
    functions.length === 0 ? h('p', { class: 'muted' }, 'No functions yet.') :
      h('table', { class: 'list', id: 'functions' }, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Runtime'), h('th', {}, 'Memory'), h('th', {}, 'Modified')),
        functions.map((f) => h('tr', {}, h('td', {}, h('a', { href: `#/s/${enc(svc)}/f/${enc(f.functionName)}` }, f.functionName)),
          h('td', {}, f.runtime), h('td', {}, `${f.memorySize} MB`), h('td', { class: 'muted' }, f.lastModifiedTime || '')))));

  const fname = h('input', { name: 'functionName', required: true });
  const runtime = h('select', { name: 'runtime' }, RUNTIMES.map((r) => h('option', { value: r }, r)));
  const handler = h('input', { name: 'handler', value: 'index.handler' });
  const memory = h('input', { name: 'memorySize', type: 'number', value: 128, min: 64, step: 64 });
  const timeout = h('input', { name: 'timeout', type: 'number', value: 3, min: 1 });
  const create = h('form', { class: 'card', id: 'create-function' }, h('h2', {}, 'Create function'),
    h('div', { class: 'row' }, field('Name', fname), field('Runtime', runtime), field('Handler', handler),
      field('Memory (MB)', memory), field('Timeout (s)', timeout)),
    h('p', { class: 'muted' }, 'Starts from a hello-world file; edit it on the Code tab.'),
    h('button', { type: 'submit' }, 'Create'));
  create.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(create, async () => {
      const [file, source] = template(runtime.value);
      const zip = createZip([{ name: file, data: new TextEncoder().encode(source) }]);
      await fc('POST', `/2016-08-15/services/${enc(svc)}/functions`, {
        functionName: fname.value, runtime: runtime.value, handler: handler.value,
        memorySize: Number(memory.value), timeout: Number(timeout.value), code: { zipFile: toBase64(zip) },
      });
      location.hash = `#/s/${enc(svc)}/f/${enc(fname.value)}/config`;
    });
  });

  main.replaceChildren(edit, list, create, versionsCard(svc, versions.versions || [], aliases.aliases || []));
}

function versionsCard(svc, versions, aliases) {
  const card = h('section', { class: 'card', id: 'versions' }, h('h2', {}, 'Versions and aliases'));
  const vdesc = h('input', { name: 'versionDescription', placeholder: 'description' });
  const publish = h('form', { class: 'inline' }, vdesc, h('button', { type: 'submit' }, 'Publish version'));
  publish.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(card, async () => { await fc('POST', `/2016-08-15/services/${enc(svc)}/versions`, { description: vdesc.value }); route(); });
  });
  const del = (path) => guard(card, async () => { await fc('DELETE', path); route(); });
  card.append(publish,
    versions.length ? h('table', { class: 'list' }, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Description'), h('th', {}, 'Created'), h('th', {})),
      versions.map((v) => h('tr', {}, h('td', {}, v.versionId), h('td', {}, v.description || ''), h('td', { class: 'muted' }, v.createdTime || ''),
        h('td', {}, h('button', { class: 'link danger', onclick: () => del(`/2016-08-15/services/${enc(svc)}/versions/${enc(v.versionId)}`) }, 'Delete')))))
      : h('p', { class: 'muted' }, 'No published versions.'));
  const aname = h('input', { name: 'aliasName', placeholder: 'alias name', required: true });
  const aver = h('input', { name: 'versionId', placeholder: 'version', required: true });
  const addAlias = h('form', { class: 'inline' }, aname, aver, h('button', { type: 'submit' }, 'Create alias'));
  addAlias.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(card, async () => { await fc('POST', `/2016-08-15/services/${enc(svc)}/aliases`, { aliasName: aname.value, versionId: aver.value }); route(); });
  });
  card.append(addAlias,
    aliases.length ? h('table', { class: 'list' }, h('tr', {}, h('th', {}, 'Alias'), h('th', {}, 'Version'), h('th', {}, 'Weights'), h('th', {})),
      aliases.map((a) => h('tr', {}, h('td', {}, a.aliasName), h('td', {}, a.versionId), h('td', {}, JSON.stringify(a.additionalVersionWeight || {})),
        h('td', {}, h('button', { class: 'link danger', onclick: () => del(`/2016-08-15/services/${enc(svc)}/aliases/${enc(a.aliasName)}`) }, 'Delete')))))
      : h('p', { class: 'muted' }, 'No aliases.'));
  return card;
}

// ---- a function ---------------------------------------------------------------------------------------

const TABS = [['config', 'Configuration'], ['code', 'Code'], ['test', 'Test'], ['triggers', 'Triggers'],
  ['logs', 'Logs'], ['async', 'Async'], ['metrics', 'Metrics']];

async function functionPage(svc, fn, tab) {
  setCrumbs([['Services', '#/'], [svc, `#/s/${enc(svc)}`], [fn]]);
  const base = `/2016-08-15/services/${enc(svc)}/functions/${enc(fn)}`;
  const f = await fc('GET', base);
  const nav = h('nav', { class: 'tabs' }, TABS.map(([id, label]) =>
    h('a', { href: `#/s/${enc(svc)}/f/${enc(fn)}/${id}`, class: id === tab ? 'active' : undefined, id: `tab-${id}` }, label)));
  const body = h('section', { class: 'card', id: `panel-${tab}` });
  main.replaceChildren(h('h1', {}, `${svc} / ${fn}`), nav, body);
  const panels = { config: configPanel, code: codePanel, test: testPanel, triggers: triggersPanel, logs: logsPanel, async: asyncPanel, metrics: metricsPanel };
  await (panels[tab] || configPanel)(body, { svc, fn, base, f });
}

function envText(env) {
  return Object.entries(env || {}).map(([k, v]) => `${k}=${v}`).join('\n');
}

function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`environment line '${line}' is not KEY=VALUE`);
    env[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return env;
}

async function configPanel(body, { svc, base, f }) {
  const inputs = {
    description: h('input', { name: 'description', value: f.description || '' }),
    runtime: h('select', { name: 'runtime' }, [...new Set([f.runtime, ...RUNTIMES])].map((r) => h('option', { value: r, selected: r === f.runtime }, r))),
    handler: h('input', { name: 'handler', value: f.handler }),
    memorySize: h('input', { name: 'memorySize', type: 'number', value: f.memorySize }),
    timeout: h('input', { name: 'timeout', type: 'number', value: f.timeout }),
    instanceConcurrency: h('input', { name: 'instanceConcurrency', type: 'number', value: f.instanceConcurrency ?? 1 }),
    initializer: h('input', { name: 'initializer', value: f.initializer || '' }),
  };
  const env = h('textarea', { name: 'environmentVariables', rows: 5, spellcheck: 'false', value: envText(f.environmentVariables) });
  const form = h('form', { id: 'function-config' }, h('h2', {}, 'Configuration'),
    h('div', { class: 'row' }, Object.entries(inputs).map(([k, i]) => field(k, i))),
    field('Environment (KEY=VALUE per line)', env),
    h('p', { class: 'muted' }, `Code checksum ${f.codeChecksum} · ${f.codeSize} bytes · modified ${f.lastModifiedTime}`),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'danger', onclick: () => guard(form, async () => {
        if (!confirm(`Delete function ${f.functionName}?`)) return;
        await fc('DELETE', base);
        location.hash = `#/s/${enc(svc)}`;
      }) }, 'Delete function')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(form, async () => {
      const patch = {
        description: inputs.description.value, runtime: inputs.runtime.value, handler: inputs.handler.value,
        memorySize: Number(inputs.memorySize.value), timeout: Number(inputs.timeout.value),
        instanceConcurrency: Number(inputs.instanceConcurrency.value), initializer: inputs.initializer.value || undefined,
        environmentVariables: parseEnv(env.value),
      };
      await fc('PUT', base, patch);
      form.append(h('p', { class: 'ok' }, 'Saved.'));
    });
  });
  body.replaceChildren(form);
}

async function codePanel(body, { base, f }) {
  body.replaceChildren(h('h2', {}, 'Code'), h('p', { class: 'muted' }, 'Loading the code package…'));
  const save = async (zip) => {
    await fc('PUT', base, { code: { zipFile: toBase64(zip) } });
    const after = await fc('GET', base);
    status.replaceChildren(`Saved as a new code package: checksum ${after.codeChecksum}, ${after.codeSize} bytes.`);
  };
  const status = h('p', { class: 'ok', id: 'code-status' });
  const upload = h('input', { type: 'file', accept: '.zip,application/zip', name: 'zip' });
  const uploadForm = h('form', { class: 'inline' }, field('Upload a zip', upload), h('button', { type: 'submit' }, 'Upload'));
  uploadForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(body, async () => {
      const file = upload.files[0];
      if (!file) throw new Error('choose a zip file first');
      await save(new Uint8Array(await file.arrayBuffer()));
    });
  });
  let entries = [];
  await guard(body, async () => {
    const { url } = await fc('GET', `${base}/code`);
    const zip = await fetch(url, { credentials: 'same-origin' });
    if (!zip.ok) throw new Error(`downloading the code failed: HTTP ${zip.status}`);
    entries = readZip(new Uint8Array(await zip.arrayBuffer()));
  });
  const parts = [h('h2', {}, 'Code'), status, uploadForm];
  if (entries.length === 1) {
    const entry = entries[0];
    const source = new TextDecoder().decode(await entry.read());
    const { createEditor } = await import('./editor.js');
    const editor = h('div', { id: 'editor', class: 'editor' });
    const lang = entry.name.endsWith('.py') ? 'python' : /\.[cm]?js$/.test(entry.name) ? 'javascript' : null;
    const nonce = document.querySelector('meta[name=ferric-style-nonce]')?.content;
    const handle = createEditor(editor, source, lang, nonce);
    // The browser test sets the text through this handle (typing would meet auto-indent and brackets).
    editor.ferricEditor = handle;
    const saveBtn = h('button', { id: 'save-code', onclick: () => guard(body, () => save(createZip([{ name: entry.name, data: new TextEncoder().encode(handle.getValue()) }]))) }, 'Save as new package');
    parts.push(h('p', { class: 'muted' }, `${entry.name} (handler ${f.handler})`), editor, h('div', { class: 'actions' }, saveBtn));
  } else {
    parts.push(h('p', { class: 'muted' }, `The package has ${entries.length} files: edit it as a zip and upload it.`),
      h('ul', {}, entries.slice(0, 200).map((e) => h('li', {}, e.name))));
  }
  body.replaceChildren(...parts);
}

async function testPanel(body, { base }) {
  const payload = h('textarea', { id: 'payload', rows: 6, class: 'code', spellcheck: 'false', value: '{"key":"value"}' });
  const out = h('div', { id: 'invoke-result' });
  const run = h('button', { id: 'invoke', onclick: () => guard(body, async () => {
    run.disabled = true;
    try {
      const r = await fc('POST', `${base}/invocations`, payload.value, { raw: true, headers: { 'X-Fc-Log-Type': 'Tail', 'Content-Type': 'application/octet-stream' } });
      const text = await r.text();
      const hdr = (k) => r.headers.get(k);
      const log = hdr('x-fc-log-result') ? new TextDecoder().decode(Uint8Array.from(atob(hdr('x-fc-log-result')), (c) => c.charCodeAt(0))) : '';
      out.replaceChildren(
        h('dl', { class: 'facts' },
          h('dt', {}, 'Status'), h('dd', { id: 'invoke-status' }, String(r.status)),
          h('dt', {}, 'Error type'), h('dd', { id: 'invoke-error-type' }, hdr('x-fc-error-type') || '—'),
          h('dt', {}, 'Duration'), h('dd', { id: 'invoke-duration' }, `${hdr('x-fc-invocation-duration') ?? '?'} ms`),
          h('dt', {}, 'Max memory'), h('dd', { id: 'invoke-memory' }, `${hdr('x-fc-max-memory-usage') ?? '?'} MB`),
          h('dt', {}, 'Request id'), h('dd', { id: 'invoke-request-id' }, hdr('x-fc-request-id') || '')),
        h('h3', {}, 'Result'), h('pre', { id: 'invoke-body' }, text),
        h('h3', {}, 'Log'), h('pre', { id: 'invoke-log' }, log));
    } finally {
      run.disabled = false;
    }
  }) }, 'Invoke');
  body.replaceChildren(h('h2', {}, 'Test invoke'), field('Payload', payload), h('div', { class: 'actions' }, run), out);
}

async function triggersPanel(body, ctx) {
  const { base } = ctx;
  const { triggers = [] } = await fc('GET', `${base}/triggers?limit=100`);
  const editor = (t) => {
    const name = h('input', { name: 'triggerName', value: t?.triggerName || '', required: true, readonly: !!t });
    const type = h('select', { name: 'triggerType', disabled: !!t }, ['timer', 'http'].map((v) => h('option', { value: v, selected: t?.triggerType === v }, v)));
    const cfg = h('textarea', { name: 'triggerConfig', rows: 4, class: 'code', spellcheck: 'false',
      value: JSON.stringify(t?.triggerConfig ?? { cronExpression: '@every 5m', enable: true }, null, 2) });
    const form = h('form', { class: 'trigger' }, h('div', { class: 'row' }, field('Name', name), field('Type', type)), field('Config (JSON)', cfg),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, t ? 'Save' : 'Create trigger'),
        t ? h('button', { type: 'button', class: 'danger', onclick: () => guard(form, async () => {
          await fc('DELETE', `${base}/triggers/${enc(t.triggerName)}`);
          triggersPanel(body, ctx);
        }) }, 'Delete') : null));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      guard(form, async () => {
        const triggerConfig = JSON.parse(cfg.value);
        if (t) await fc('PUT', `${base}/triggers/${enc(t.triggerName)}`, { triggerConfig });
        else await fc('POST', `${base}/triggers`, { triggerName: name.value, triggerType: type.value, triggerConfig });
        triggersPanel(body, ctx);
      });
    });
    return form;
  };
  body.replaceChildren(h('h2', {}, 'Triggers'),
    ...(triggers.length ? triggers.map((t) => h('div', { class: 'sub' }, h('h3', {}, `${t.triggerName} (${t.triggerType})`), editor(t)))
      : [h('p', { class: 'muted' }, 'No triggers.')]),
    h('div', { class: 'sub' }, h('h3', {}, 'New trigger'), editor(null)));
}

function logLine(e) {
  return h('div', { class: 'log-entry' }, h('div', { class: 'muted' }, `${e.time} ${e.requestId}`), h('pre', {}, e.content));
}

async function logsPanel(body, { svc, fn }) {
  const rid = h('input', { name: 'requestId', id: 'log-request-id', placeholder: 'request id (optional)' });
  const list = h('div', { id: 'log-list' });
  const state = h('span', { class: 'muted', id: 'follow-state' });
  let source = null;
  const stop = () => { if (source) source.close(); source = null; state.textContent = ''; };
  cleanup.push(stop);
  const q = () => `serviceName=${enc(svc)}&functionName=${enc(fn)}${rid.value ? `&requestId=${enc(rid.value)}` : ''}`;
  const load = () => guard(body, async () => {
    const { logs = [] } = await fc('GET', `/ferric/v1/logs?limit=50&${q()}`);
    list.replaceChildren(...logs.map(logLine));
  });
  const follow = () => {
    stop();
    source = new EventSource(`/console/api/fc/ferric/v1/logs/follow?${q()}`);
    source.addEventListener('log', (ev) => list.prepend(logLine(JSON.parse(ev.data))));
    source.addEventListener('open', () => { state.textContent = 'following…'; });
    source.addEventListener('error', () => { state.textContent = 'disconnected; retrying'; });
  };
  const form = h('form', { class: 'inline' }, rid, h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'button', id: 'follow', onclick: follow }, 'Follow'), h('button', { type: 'button', onclick: stop }, 'Stop'), state);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load().then(() => source && follow()); });
  body.replaceChildren(h('h2', {}, 'Logs'), form, list);
  await load();
}

async function asyncPanel(body, ctx) {
  const { svc, fn } = ctx;
  const path = `/2016-08-15/services/${enc(svc)}/functions/${enc(fn)}/stateful-async-invocations`;
  const { invocations = [] } = await fc('GET', `${path}?limit=100`);
  const redrive = (id) => guard(body, async () => {
    await fc('POST', `/ferric/v1/services/${enc(svc)}/functions/${enc(fn)}/stateful-async-invocations/${enc(id)}/redrive`);
    asyncPanel(body, ctx);
  });
  const payload = h('input', { name: 'asyncPayload', value: '{}' });
  const send = h('form', { class: 'inline' }, payload, h('button', { type: 'submit' }, 'Invoke async (stateful)'));
  send.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(body, async () => {
      const id = crypto.randomUUID();
      await fc('POST', `/2016-08-15/services/${enc(svc)}/functions/${enc(fn)}/invocations`, payload.value,
        { headers: { 'X-Fc-Invocation-Type': 'Async', 'X-Fc-Stateful-Async-Invocation-Id': id, 'Content-Type': 'application/octet-stream' } });
      asyncPanel(body, ctx);
    });
  });
  const dead = new Set(['Failed', 'Expired', 'Stopped']);
  // While any invocation is still on its way, look again shortly.
  if (invocations.some((i) => !dead.has(i.status) && i.status !== 'Succeeded')) {
    const timer = setTimeout(() => asyncPanel(body, ctx).catch(() => {}), 1000);
    cleanup.push(() => clearTimeout(timer));
  }
  body.replaceChildren(h('h2', {}, 'Async invocations'), send,
    invocations.length ? h('table', { class: 'list' },
      h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Status'), h('th', {}, 'Started'), h('th', {}, 'Ended'), h('th', {})),
      invocations.map((i) => h('tr', {}, h('td', {}, i.invocationId), h('td', {}, i.status),
        h('td', { class: 'muted' }, i.startedTime ? new Date(i.startedTime).toISOString() : ''),
        h('td', { class: 'muted' }, i.endTime ? new Date(i.endTime).toISOString() : ''),
        h('td', {}, dead.has(i.status) ? h('button', { class: 'link', onclick: () => redrive(i.invocationId) }, 'Re-drive') : ''))))
      : h('p', { class: 'muted' }, 'No stateful async invocations (they need a stateful invocation id).'));
}

async function metricsPanel(body, { svc, fn }) {
  const draw = async () => {
    const m = await call('GET', `/console/api/services/${enc(svc)}/functions/${enc(fn)}/metrics`);
    const b = m.buckets || [];
    const t = b.map((x) => x.startMs);
    const col = (k) => b.map((x) => x[k]);
    charts.replaceChildren(
      lineChart('Invocations', t, [{ name: 'invocations', cls: 's1', values: col('invocations') }, { name: 'errors', cls: 's2', values: col('errors') }]),
      lineChart('Duration', t, [{ name: 'p50', cls: 's1', values: col('durationP50Ms') }, { name: 'p99', cls: 's2', values: col('durationP99Ms') }], 'ms'),
      lineChart('Cold starts and throttles', t, [{ name: 'cold', cls: 's1', values: col('coldStarts') }, { name: 'throttled', cls: 's2', values: col('throttles') }]),
      lineChart('Instances', t, [{ name: 'instances', cls: 's1', values: col('instances') }]));
  };
  const charts = h('div', { class: 'charts', id: 'charts' });
  body.replaceChildren(h('h2', {}, 'Last hour'), charts);
  await guard(body, draw);
  const timer = setInterval(() => draw().catch(() => {}), 15000);
  cleanup.push(() => clearInterval(timer));
}

// ---- routing ------------------------------------------------------------------------------------------

async function route() {
  cleanup.forEach((f) => f());
  cleanup = [];
  if (!session) {
    try {
      session = await call('GET', '/console/api/session');
      setCsrf(session.csrfToken);
    } catch {
      return signInPage();
    }
  }
  showWho();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (parts[0] === 's' && parts[2] === 'f' && parts[3]) await functionPage(parts[1], parts[3], parts[4] || 'config');
    else if (parts[0] === 's' && parts[1]) await servicePage(parts[1]);
    else await servicesPage();
  } catch (e) {
    if (e instanceof ApiError && e.status === 403 && e.code === 'AccessDenied') {
      session = null;
      return signInPage();
    }
    main.replaceChildren(errorBox(e), h('p', {}, h('a', { href: '#/' }, 'Back to services')));
  }
  document.body.dataset.ready = location.hash || '#/';
}

window.addEventListener('hashchange', route);
route();
