'use strict';
// The `context` handed to handlers and initializers: FC's shape, plain data only (JSON.stringify works).

const { ContextLogger } = require('./logging');

const env = process.env;
const int = (v, d) => {
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? d : n;
};

// What does not change for the life of the instance, from the `init` frame (env as a fallback).
const instance = {
  function: {
    name: env.FC_FUNCTION_NAME || '',
    handler: env.FC_FUNCTION_HANDLER || '',
    memory: int(env.FC_FUNCTION_MEMORY_SIZE, 128),
    timeout: 3,
    initializer: env.FC_FUNCTION_INITIALIZER || null,
    initializationTimeout: 3,
  },
  service: {
    name: env.FC_SERVICE_NAME || '',
    logProject: '',
    logStore: '',
    qualifier: env.FC_QUALIFIER || 'LATEST',
    versionId: '',
  },
  region: env.FC_REGION || '',
  accountId: env.FC_ACCOUNT_ID || '',
};

const str = (v, d) => (typeof v === 'string' ? v : d);

/** Takes the `init` frame. */
function configure(init) {
  const f = init.function || {};
  const s = init.service || {};
  const fn = instance.function;
  fn.name = str(f.name, fn.name);
  fn.handler = str(f.handler, fn.handler);
  fn.memory = typeof f.memory === 'number' ? f.memory : fn.memory;
  fn.timeout = typeof f.timeout === 'number' ? f.timeout : fn.timeout;
  fn.initializer = typeof f.initializer === 'string' && f.initializer !== '' ? f.initializer : null;
  fn.initializationTimeout = typeof f.initializationTimeout === 'number' ? f.initializationTimeout : fn.initializationTimeout;
  const sv = instance.service;
  sv.name = str(s.name, sv.name);
  sv.logProject = str(s.logProject, sv.logProject);
  sv.logStore = str(s.logStore, sv.logStore);
  sv.qualifier = str(s.qualifier, sv.qualifier);
  sv.versionId = str(s.versionId, sv.versionId);
  instance.region = str(init.region, instance.region);
  instance.accountId = str(init.accountId, instance.accountId);
}

function credentialsOf(c) {
  if (c !== null && typeof c === 'object' && typeof c.accessKeyId === 'string' &&
      typeof c.accessKeySecret === 'string' && typeof c.securityToken === 'string') {
    return c; // the frame's own object: already exactly FC's shape
  }
  c = c || {};
  return {
    accessKeyId: str(c.accessKeyId, ''),
    accessKeySecret: str(c.accessKeySecret, ''),
    securityToken: str(c.securityToken, ''),
  };
}

/** `context.tracing` from an invoke frame's `tracing` (FC's field names), or FC's empty default. */
function tracingOf(t) {
  if (t === null || typeof t !== 'object') {
    return { openTracingSpanContext: '', openTracingSpanBaggages: {}, jaegerEndpoint: '' };
  }
  const baggages = t.openTracingSpanBaggages;
  return {
    openTracingSpanContext: str(t.openTracingSpanContext, ''),
    openTracingSpanBaggages: baggages !== null && typeof baggages === 'object' ? baggages : {},
    jaegerEndpoint: str(t.jaegerEndpoint, ''),
  };
}

/**
 * FC's context, keys in FC's order. An invoke frame's `service` (the qualifier the caller named and the
 * version it resolved to) overrides the instance's, which an alias and its versions share. `function` and `service` are fresh copies per request so that code
 * mutating them cannot leak into the next request.
 */
class Context {
  constructor(target, credentials) {
    const fn = instance.function;
    const sv = instance.service;
    this.requestId = target.requestId;
    this.credentials = credentialsOf(credentials);
    this.function = {
      name: fn.name,
      handler: fn.handler,
      memory: fn.memory,
      timeout: fn.timeout,
      initializer: fn.initializer,
    };
    const asked = target.service || {};
    this.service = {
      name: sv.name,
      logProject: sv.logProject,
      logStore: sv.logStore,
      qualifier: str(asked.qualifier, sv.qualifier),
      versionId: str(asked.versionId, sv.versionId),
    };
    this.region = instance.region;
    this.accountId = instance.accountId;
    this.logger = new ContextLogger(target);
    this.retryCount = 0;
    this.tracing = tracingOf(target.tracing);
    this.waitsForEmptyEventLoopBeforeCallback = false;
  }
}

module.exports = { instance, configure, Context };
