'use strict';
// Hostile Node.js functions for crates/cli/tests/sandbox.rs. Each handler attempts one escape from its
// sandbox and answers {"blocked": bool, "detail": string} rather than crashing, except where crashing (or
// exhausting a limit) is the point. The event is the JSON the harness sends (see `event` in sandbox.rs).
// Anything an attempt manages to create on the host is removed again before answering.

const fs = require('fs');
const net = require('net');
const http = require('http');
const path = require('path');
const cp = require('child_process');

const MIB = 1 << 20;

const parse = (event) => JSON.parse(event.toString() || '{}');
const why = (e) => (e && (e.code || e.message)) || String(e);
const answer = (blocked, detail, extra) => Object.assign({ blocked, detail: JSON.stringify(detail) }, extra || {});

function tryRead(target) {
  try {
    const st = fs.statSync(target);
    if (st.isDirectory()) {
      return { target, ok: true, entries: fs.readdirSync(target).slice(0, 20) };
    }
    return { target, ok: true, text: fs.readFileSync(target).subarray(0, 200).toString('latin1') };
  } catch (e) {
    return { target, ok: false, error: why(e) };
  }
}

// 1. Another function's code, by its host path.
exports.readVictim = async (event) => {
  const ev = parse(event);
  const tries = [ev.victimDir, path.join(ev.victimDir, 'secret.txt'), path.join(ev.victimDir, 'index.py')].map(
    tryRead,
  );
  return answer(!tries.some((t) => t.ok), tries);
};

// 2. The server's data directory, directly and through the server's /proc/<pid>/root.
exports.readDataDir = async (event) => {
  const ev = parse(event);
  const tries = [
    ev.dataDir,
    path.join(ev.dataDir, 'ferric.db'),
    path.join(ev.dataDir, 'credentials.json'),
    `/proc/${ev.serverPid}/root${path.join(ev.dataDir, 'credentials.json')}`,
  ].map(tryRead);
  return answer(!tries.some((t) => t.ok), tries);
};

function tryCreate(file) {
  try {
    // 'wx': never overwrite something that exists.
    fs.writeFileSync(file, 'hostile', { flag: 'wx' });
  } catch (e) {
    return { file, written: false, error: why(e) };
  }
  try {
    fs.unlinkSync(file);
  } catch (e) {
    return { file, written: true, cleanup: why(e) };
  }
  return { file, written: true };
}

// 3. Writing anywhere but /tmp: the code (/code and FC_FUNC_CODE_PATH), /etc, /usr, /, /var.
exports.writeOutsideTmp = async (event) => {
  const ev = parse(event);
  const name = `ferric-hostile-${ev.token}`;
  const dirs = ['/code', process.env.FC_FUNC_CODE_PATH, '/etc', '/usr', '/', '/var'];
  const tries = dirs.map((d) => (d ? tryCreate(path.join(d, name)) : { file: 'FC_FUNC_CODE_PATH unset', written: false }));
  const control = tryCreate(path.join('/tmp', name));
  const blocked = control.written && !tries.some((t) => t.written);
  return answer(blocked, { control, tries });
};

// 4. Host processes in /proc.
exports.seeProcesses = async (event) => {
  const ev = parse(event);
  let pids = [];
  let error = null;
  try {
    pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch (e) {
    error = why(e);
  }
  const serverVisible = fs.existsSync(`/proc/${ev.serverPid}`);
  const blocked = !serverVisible && pids.length < 20;
  return answer(blocked, { serverVisible, count: pids.length, pids: pids.slice(0, 30), error });
};

// 5. Signalling the server and other instances (signal 0: the permission check without the harm).
exports.signalServer = async (event) => {
  const ev = parse(event);
  const tries = [ev.serverPid, ...(ev.peerPids || [])].map((pid) => {
    try {
      process.kill(pid, 0);
      return { pid, signalled: true };
    } catch (e) {
      return { pid, signalled: false, error: why(e) };
    }
  });
  return answer(!tries.some((t) => t.signalled), tries);
};

const run = (file, args) => {
  const r = cp.spawnSync(file, args, { encoding: 'utf8', timeout: 10000 });
  return { cmd: [file, ...args].join(' '), status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, error: r.error && why(r.error) };
};

// The shell keeps working in the sandbox: the attacks below are refused, not made impossible by a missing /bin/sh.
const shellWorks = () => {
  const r = run('/bin/sh', ['-c', 'echo ok']);
  return { ok: r.status === 0 && r.stdout === 'ok\n', r };
};

// 7. Mounting a tmpfs.
exports.mount = async (event) => {
  const ev = parse(event);
  const dir = `/tmp/ferric-m-${ev.token}`;
  const control = shellWorks();
  const r = run('/bin/sh', ['-c', `mkdir -p ${dir} && mount -t tmpfs none ${dir} && { umount ${dir}; echo MOUNTED; }`]);
  try {
    fs.rmdirSync(dir);
  } catch (e) {
    // already gone or never made
  }
  const blocked = control.ok && !r.error && !String(r.stdout).includes('MOUNTED');
  return answer(blocked, { control, attempt: r });
};

// 8. A new user namespace.
exports.unshare = async () => {
  const control = shellWorks();
  const r = run('unshare', ['-Ur', 'true']);
  // The attempt must have run (unshare found and started) and failed.
  const blocked = control.ok && !r.error && r.status !== 0;
  return answer(blocked, { control, attempt: r });
};

function connect(target) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (result) => {
      socket.destroy();
      resolve(Object.assign({ target }, result));
    };
    socket.setTimeout(2000, () => done({ connected: false, error: 'timeout' }));
    socket.on('connect', () => done({ connected: true }));
    socket.on('error', (e) => done({ connected: false, error: why(e) }));
  });
}

// 10, 11. TCP connections to the host (listeners of the harness, Ferric's own API port).
exports.netConnect = async (event) => {
  const ev = parse(event);
  const tries = await Promise.all(ev.targets.map(connect));
  return answer(!tries.some((t) => t.connected), tries);
};

// 11. An unsigned form-API request to Ferric from inside a function (with host networking).
exports.formApi = (event) => {
  const ev = parse(event);
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port: ev.apiPort, path: '/api/v1/func/list?Offset=0&Limit=20', timeout: 5000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let accepted = false;
          try {
            accepted = res.statusCode === 200 && JSON.parse(body).Code === 0;
          } catch (e) {
            accepted = false;
          }
          resolve(answer(!accepted, { status: res.statusCode, body: body.slice(0, 300) }));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(answer(true, { connected: false, error: why(e) })));
  });
};

// 12. Fork bomb: start `sleep` until refused (or the limit is reached), then kill them all.
exports.forkBomb = async (event) => {
  const ev = parse(event);
  const children = [];
  let failure = null;
  const deadline = Date.now() + 15000;
  while (children.length < ev.limit && Date.now() < deadline) {
    let child;
    try {
      child = cp.spawn('sleep', ['20'], { stdio: 'ignore' });
    } catch (e) {
      failure = why(e);
      break;
    }
    child.on('error', (e) => {
      failure = failure || why(e);
    });
    if (child.pid === undefined) {
      failure = failure || 'spawn failed';
      break;
    }
    children.push(child);
  }
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch (e) {
      // gone
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  return answer(children.length < ev.limit, { created: children.length, failure }, { created: children.length });
};

// 13. Memory past memorySize: must fail (the error, or the instance's death, is the answer).
exports.memoryHog = async (event) => {
  const ev = parse(event);
  const buffers = [];
  for (let i = 0; i < ev.mib; i++) {
    buffers.push(Buffer.alloc(MIB, i & 255));
  }
  return answer(false, `allocated ${buffers.length} MiB`);
};

// 14. Filling /tmp: must stop with ENOSPC before ev.mib MiB.
exports.tmpFill = async (event) => {
  const ev = parse(event);
  const file = `/tmp/ferric-fill-${ev.token}`;
  const chunk = Buffer.alloc(MIB, 7);
  let written = 0;
  let error = null;
  let fd = null;
  try {
    fd = fs.openSync(file, 'w');
    while (written < ev.mib * MIB) {
      written += fs.writeSync(fd, chunk, 0, chunk.length);
    }
  } catch (e) {
    error = why(e);
  } finally {
    if (fd !== null) fs.closeSync(fd);
    try {
      fs.unlinkSync(file);
    } catch (e) {
      // never made
    }
  }
  const blocked = written < ev.mib * MIB && (error === 'ENOSPC' || error === 'EDQUOT');
  return answer(blocked, { writtenMiB: written / MIB, error }, { written });
};

// 15. A detached child left behind by an exiting instance.
exports.leaveChild = (event, context, callback) => {
  const ev = parse(event);
  const child = cp.spawn('sleep', [ev.sleepArg], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  setTimeout(() => process.exit(1), 300);
};

// 16. Host paths in the mount tables (the data dir, code checksums, the curated /etc's source).
exports.hostPaths = async (event) => {
  const ev = parse(event);
  const tables = ['/proc/self/mountinfo', '/proc/mounts', '/proc/self/mountstats'].map((file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      return '';
    }
  });
  const found = ev.hostPaths.filter((p) => tables.some((t) => t.includes(p)));
  return answer(found.length === 0, { found, mountinfo: tables[0] });
};
